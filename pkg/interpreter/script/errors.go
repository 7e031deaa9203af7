package script

import (
	"errors"
	"fmt"
	"strings"
)

// Error is a failed script call. Its message names the function and what
// went wrong, never the object's content (Lua's own messages name types and
// script lines; a script's error() text is cut at MaxMessage).
type Error struct {
	// Func is the Lua function, as "InterpretHealth".
	Func string
	// Reason says what went wrong.
	Reason string
	// Budget is set when the call was stopped by its time or memory budget.
	Budget bool
}

func (e *Error) Error() string { return e.Func + ": " + e.Reason }

// MaxMessage bounds the text taken from a Lua error.
const MaxMessage = 256

// IsBudget reports whether err is a call stopped by a budget.
func IsBudget(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Budget
}

func failf(fn, format string, args ...any) *Error {
	return &Error{Func: fn, Reason: fmt.Sprintf(format, args...)}
}

// luaMessage is the first line of a Lua error, cut at MaxMessage.
func luaMessage(msg string) string {
	if i := strings.IndexByte(msg, '\n'); i >= 0 {
		msg = msg[:i]
	}
	msg = strings.ToValidUTF8(msg, "?")
	if len(msg) > MaxMessage {
		msg = msg[:MaxMessage] + "..."
	}
	return msg
}
