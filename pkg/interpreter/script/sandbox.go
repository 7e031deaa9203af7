package script

import (
	"regexp"

	lua "github.com/yuin/gopher-lua"
)

// MaxString bounds a string that one library call may build.
const MaxString = 1 << 20

// Stack limits of a Lua state: call depth and value-stack slots.
const (
	callStackSize   = 200
	registrySize    = 1024
	registryMaxSize = 64 * 1024
)

// disabled are the base functions a script may not call.
var disabled = []string{"dofile", "loadfile", "load", "loadstring", "require", "module", "collectgarbage",
	"getfenv", "setfenv", "getmetatable", "setmetatable", "rawget", "rawset", "rawequal", "newproxy", "_printregs"}

// sandbox is a Lua state prepared for scripts, with the metatable that
// makes a call's fresh globals read through to the shared ones.
type sandbox struct {
	L       *lua.LState
	globals *lua.LTable // metatable of each call's environment
}

// newSandbox opens the allowed libraries in a new state and locks them.
func newSandbox() (*sandbox, error) {
	L := lua.NewState(lua.Options{SkipOpenLibs: true, CallStackSize: callStackSize,
		RegistrySize: registrySize, RegistryMaxSize: registryMaxSize, IncludeGoStackTrace: false})
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}, {lua.StringLibName, lua.OpenString}, {lua.MathLibName, lua.OpenMath}} {
		if err := L.CallByParam(lua.P{Fn: L.NewFunction(lib.open), NRet: 0, Protect: true}, lua.LString(lib.name)); err != nil {
			L.Close()
			return nil, err
		}
	}
	G := L.G.Global
	for _, name := range disabled {
		name := name
		G.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			L.RaiseError("%s is not available to resource interpreter scripts", name)
			return 0
		}))
	}
	G.RawSetString("print", L.NewFunction(func(*lua.LState) int { return 0 }))
	G.RawSetString("_G", lua.LNil) // each call's environment is its own _G
	limitStrings(L)
	for _, lib := range []string{lua.TabLibName, lua.StringLibName, lua.MathLibName} {
		G.RawSetString(lib, readOnly(L, G.RawGetString(lib).(*lua.LTable)))
	}
	meta := L.NewTable()
	meta.RawSetString("__index", G)
	return &sandbox{L: L, globals: meta}, nil
}

// readOnly returns a proxy of t that reads t and refuses writes.
func readOnly(L *lua.LState, t *lua.LTable) *lua.LTable {
	proxy, meta := L.NewTable(), L.NewTable()
	meta.RawSetString("__index", t)
	meta.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("library tables are read-only")
		return 0
	}))
	meta.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(proxy, meta)
	return proxy
}

// env is a fresh global environment for one call.
func (s *sandbox) env() *lua.LTable {
	env := s.L.NewTable()
	env.RawSetString("_G", env)
	s.L.SetMetatable(env, s.globals)
	return env
}

// bigWidth matches a string.format conversion with a width or precision of
// four digits or more.
var bigWidth = regexp.MustCompile(`%[-+ #0]*(\d{4,}|\d*\.\d{4,})`)

// limitStrings wraps the string and table functions that can build a large
// string in one step, in the library tables themselves (so string methods
// called as s:rep(n) are wrapped too).
func limitStrings(L *lua.LState) {
	str := L.G.Global.RawGetString(lua.StringLibName).(*lua.LTable)
	tab := L.G.Global.RawGetString(lua.TabLibName).(*lua.LTable)
	guard(L, str, "rep", func(L *lua.LState) {
		s, n, sep := L.CheckString(1), L.CheckInt64(2), L.OptString(3, "")
		if n > 0 && (n > MaxString || int64(len(s)+len(sep))*n > MaxString) {
			L.RaiseError("string.rep would build more than %d bytes", MaxString)
		}
	})
	guard(L, str, "format", func(L *lua.LState) {
		f := L.CheckString(1)
		if len(f) > MaxString/64 || bigWidth.MatchString(f) {
			L.RaiseError("string.format: the format is too long or has a width or precision over 999")
		}
	})
	guard(L, str, "gsub", func(L *lua.LState) {
		s := L.CheckString(1)
		if len(s) > 64<<10 {
			L.RaiseError("string.gsub on a string over 64 KiB")
		}
		if r, ok := L.Get(3).(lua.LString); ok && len(s)*(len(r)+1) > MaxString {
			L.RaiseError("string.gsub could build more than %d bytes", MaxString)
		}
	})
	for _, name := range []string{"find", "match", "gmatch"} {
		guard(L, str, name, func(L *lua.LState) {
			if len(L.CheckString(1)) > 64<<10 || len(L.OptString(2, "")) > 1024 {
				L.RaiseError("string.%s on a string over 64 KiB or with a pattern over 1 KiB", name)
			}
		})
	}
	guard(L, tab, "concat", func(L *lua.LState) {
		t, sep := L.CheckTable(1), L.OptString(2, "")
		total := 0
		for i := 1; i <= t.Len(); i++ {
			if s, ok := t.RawGetInt(i).(lua.LString); ok {
				total += len(s) + len(sep)
			}
			if total > MaxString {
				L.RaiseError("table.concat would build more than %d bytes", MaxString)
			}
		}
	})
}

// guard replaces lib[name] with a function that runs check and then the original.
func guard(L *lua.LState, lib *lua.LTable, name string, check func(L *lua.LState)) {
	orig, ok := lib.RawGetString(name).(*lua.LFunction)
	if !ok {
		return
	}
	lib.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
		check(L)
		return orig.GFunction(L)
	}))
}
