package script

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// run defines p's functions in a fresh environment, calls fn with args and
// converts its nret results.
func (s *sandbox) run(ctx context.Context, p *Program, fn string, nret int, args []map[string]any) (out outcome) {
	L := s.L
	defer func() { // gopher-lua raises Go panics for some internal errors
		if v := recover(); v != nil {
			out = outcome{err: fmt.Errorf("the Lua VM failed: %v", v)}
		}
	}()
	L.SetContext(ctx)
	defer L.RemoveContext()
	env := s.env()
	chunk := L.NewFunctionFromProto(p.proto)
	chunk.Env = env
	if err := L.CallByParam(lua.P{Fn: chunk, NRet: 0, Protect: true}); err != nil {
		return outcome{err: err}
	}
	f, ok := env.RawGetString(fn).(*lua.LFunction)
	if !ok {
		return outcome{err: failf(fn, "the script does not define function %s", fn)}
	}
	largs := make([]lua.LValue, len(args))
	for i, a := range args {
		largs[i] = toLua(L, a)
	}
	if err := L.CallByParam(lua.P{Fn: f, NRet: nret, Protect: true}, largs...); err != nil {
		return outcome{err: err}
	}
	c := &converter{}
	out.values = make([]any, nret)
	for i := range nret {
		v := L.Get(i + 1)
		if _, isTable := v.(*lua.LTable); !isTable {
			out.values[i] = v // checked by the caller, which knows what it wants
			continue
		}
		val, err := c.value(v, 0)
		if err != nil {
			return outcome{err: failf(fn, "%v", err)}
		}
		out.values[i] = val
	}
	L.Pop(L.GetTop())
	return out
}
