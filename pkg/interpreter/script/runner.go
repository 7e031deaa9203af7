package script

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// Limits are a Runner's budgets.
type Limits struct {
	// Timeout bounds one call (default 1s, as Karmada's).
	Timeout time.Duration
	// Memory bounds how far the Go heap may grow during calls (default 32 MiB).
	Memory uint64
	// Pause holds a script back after a budget stopped it (default 1m).
	Pause time.Duration
	// States is the number of pooled Lua states (default 4).
	States int
	// MaxAbandoned bounds the calls left running inside a Go library
	// function after their deadline; beyond it, calls are refused (default 4).
	MaxAbandoned int
}

func (l Limits) withDefaults() Limits {
	if l.Timeout <= 0 {
		l.Timeout = time.Second
	}
	if l.Memory == 0 {
		l.Memory = 32 << 20
	}
	if l.Pause <= 0 {
		l.Pause = time.Minute
	}
	if l.States <= 0 {
		l.States = 4
	}
	if l.MaxAbandoned <= 0 {
		l.MaxAbandoned = 4
	}
	return l
}

// Runner runs compiled scripts on a pool of sandboxed Lua states. It is
// safe for concurrent use.
type Runner struct {
	limits    Limits
	pool      chan *sandbox
	watch     *watchdog
	abandoned atomic.Int32
}

// NewRunner returns a Runner with the given limits.
func NewRunner(l Limits) *Runner {
	l = l.withDefaults()
	return &Runner{limits: l, pool: make(chan *sandbox, l.States), watch: newWatchdog(l.Memory)}
}

// Limits returns the runner's limits, defaults filled in.
func (r *Runner) Limits() Limits { return r.limits }

// errTimeout is the cause of a call stopped by its time budget.
var errTimeout = errors.New("timeout")

// outcome is what one call produced: its converted results or an error.
type outcome struct {
	values []any
	err    error
}

// call runs fn of p with args and returns its nret results as JSON values
// (empty tables still marked empty{}).
func (r *Runner) call(ctx context.Context, p *Program, fn string, nret int, args ...map[string]any) ([]any, error) {
	now := time.Now()
	if reason, ok := p.paused(now); ok {
		return nil, &Error{Func: fn, Reason: reason, Budget: true}
	}
	if int(r.abandoned.Load()) >= r.limits.MaxAbandoned {
		return nil, failf(fn, "not run: %d earlier calls are still stuck past their deadline", r.abandoned.Load())
	}
	sb, err := r.get()
	if err != nil {
		return nil, failf(fn, "no Lua state: %v", err)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, r.limits.Timeout, errTimeout)
	defer cancel()
	stop := r.watch.track(cancel)
	done := make(chan outcome, 1)
	go func() { done <- sb.run(ctx, p, fn, nret, args) }()
	var out outcome
	select {
	case out = <-done:
	case <-ctx.Done():
		select {
		case out = <-done:
		case <-time.After(r.limits.Timeout / 10):
			memory := stop()
			r.abandon(sb, done)
			return nil, r.failure(ctx, p, fn, memory, errors.New("stuck in a library function"))
		}
	}
	memory := stop()
	if out.err == nil {
		r.put(sb)
		return out.values, nil
	}
	sb.L.Close() // a state that failed is not reused
	return nil, r.failure(ctx, p, fn, memory, out.err)
}

// failure turns a call's error into an Error, pausing p after a budget stop.
func (r *Runner) failure(ctx context.Context, p *Program, fn string, memory bool, err error) error {
	var e *Error
	switch {
	case memory:
		e = &Error{Func: fn, Reason: fmt.Sprintf("stopped: the heap grew by more than its budget of %d MiB", r.limits.Memory>>20), Budget: true}
	case errors.Is(context.Cause(ctx), errTimeout):
		e = &Error{Func: fn, Reason: fmt.Sprintf("stopped: it ran longer than its budget of %s", r.limits.Timeout), Budget: true}
	case errors.As(err, &e):
		return e
	default:
		var api *lua.ApiError
		if errors.As(err, &api) {
			return failf(fn, "runtime error: %s", luaMessage(api.Object.String()))
		}
		return failf(fn, "%s", luaMessage(err.Error()))
	}
	p.pause(time.Now(), r.limits.Pause, e.Reason)
	return e
}

// abandon leaves a state to the call still running on it, and closes it
// when that call ends.
func (r *Runner) abandon(sb *sandbox, done chan outcome) {
	r.abandoned.Add(1)
	go func() {
		<-done
		r.abandoned.Add(-1)
		sb.L.Close()
	}()
}

func (r *Runner) get() (*sandbox, error) {
	select {
	case sb := <-r.pool:
		return sb, nil
	default:
		return newSandbox()
	}
}

func (r *Runner) put(sb *sandbox) {
	sb.L.SetTop(0)
	select {
	case r.pool <- sb:
	default:
		sb.L.Close()
	}
}
