package script

import (
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Program is a compiled script. It is immutable but for its pause, and
// is shared by every Lua state of a Runner.
type Program struct {
	name  string
	proto *lua.FunctionProto
	// pausedUntil (unix nanoseconds) holds calls back after a budget stop.
	pausedUntil atomic.Int64
	pauseReason atomic.Pointer[string]
}

// Compile parses and compiles a script once; name labels it in Lua's messages.
func Compile(name, source string) (*Program, error) {
	chunk, err := parse.Parse(strings.NewReader(source), name)
	if err != nil {
		return nil, fmt.Errorf("the script does not compile: %s", luaMessage(err.Error()))
	}
	proto, err := lua.Compile(chunk, name)
	if err != nil {
		return nil, fmt.Errorf("the script does not compile: %s", luaMessage(err.Error()))
	}
	return &Program{name: name, proto: proto}, nil
}

// pause holds calls of p back until now+d, with the reason they get.
func (p *Program) pause(now time.Time, d time.Duration, reason string) {
	p.pauseReason.Store(&reason)
	p.pausedUntil.Store(now.Add(d).UnixNano())
}

// paused returns the reason calls are held back at now, if they are.
func (p *Program) paused(now time.Time) (string, bool) {
	until := p.pausedUntil.Load()
	if until == 0 || now.UnixNano() >= until {
		return "", false
	}
	r := p.pauseReason.Load()
	return fmt.Sprintf("%s; paused until %s", *r, time.Unix(0, until).UTC().Format(time.RFC3339)), true
}
