package interpreter

import (
	"sync"
	"time"
)

// failureLog spaces the logs of each key at least every apart.
type failureLog struct {
	every time.Duration
	mu    sync.Mutex
	last  map[string]time.Time
}

func newFailureLog(every time.Duration) *failureLog {
	return &failureLog{every: every, last: map[string]time.Time{}}
}

// due reports whether key may be logged at now, and records it if so.
func (l *failureLog) due(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if last, ok := l.last[key]; ok && now.Sub(last) < l.every {
		return false
	}
	l.last[key] = now
	return true
}
