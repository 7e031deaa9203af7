package script

import (
	"fmt"
	"math"

	lua "github.com/yuin/gopher-lua"
)

// maxDepth bounds the nesting of a converted value, so that a table that
// contains itself is an error rather than an endless recursion.
const maxDepth = 100

// maxNodes bounds the values in a table returned by a script.
const maxNodes = 1 << 20

// toLua converts a JSON value (as unstructured objects hold it) to Lua: a
// map to a table with string keys, a list to a table indexed from 1, a
// number to a Lua number; nil is absent.
func toLua(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		t := L.CreateTable(0, len(v))
		for k, item := range v {
			if item != nil {
				t.RawSetString(k, toLua(L, item))
			}
		}
		return t
	case []any:
		t := L.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(L, item))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	}
	return lua.LNil
}

// empty marks an empty Lua table, which may stand for {} or [].
type empty struct{}

// fromLua converts a value a script returned into a JSON value. An empty
// table becomes empty{}, for resolveEmpty to decide.
type converter struct{ nodes int }

func (c *converter) value(v lua.LValue, depth int) (any, error) {
	if c.nodes++; c.nodes > maxNodes {
		return nil, fmt.Errorf("the result has more than %d values", maxNodes)
	}
	switch v := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LBool:
		return bool(v), nil
	case lua.LString:
		return string(v), nil
	case lua.LNumber:
		return number(float64(v))
	case *lua.LTable:
		if depth >= maxDepth {
			return nil, fmt.Errorf("the result is nested deeper than %d levels (a table that contains itself?)", maxDepth)
		}
		return c.table(v, depth+1)
	}
	return nil, fmt.Errorf("the result holds a %s, which has no JSON form", v.Type())
}

// number is an integral value as int64 (as JSON decoding gives it), else a float.
func number(f float64) (any, error) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0):
		return nil, fmt.Errorf("the result holds a number that is not finite")
	case f == math.Trunc(f) && math.Abs(f) < 1<<63:
		return int64(f), nil
	}
	return f, nil
}

// table converts a table with string keys to a map and one indexed 1..n to
// a list; any other key set is an error.
func (c *converter) table(t *lua.LTable, depth int) (any, error) {
	var names, indices int
	maxIndex := 0
	var bad lua.LValue
	t.ForEach(func(k, _ lua.LValue) {
		switch k := k.(type) {
		case lua.LString:
			names++
		case lua.LNumber:
			if f := float64(k); f >= 1 && f == math.Trunc(f) && f <= maxNodes {
				indices++
				maxIndex = max(maxIndex, int(f))
				return
			}
			bad = k
		default:
			bad = k
		}
	})
	switch {
	case bad != nil:
		return nil, fmt.Errorf("a table in the result has a %s key; tables must have string keys or be lists indexed 1..n", bad.Type())
	case names > 0 && indices > 0:
		return nil, fmt.Errorf("a table in the result mixes string keys and list items")
	case indices > 0 && maxIndex != indices:
		return nil, fmt.Errorf("a list in the result has holes (items 1..%d, %d of them set)", maxIndex, indices)
	case names == 0 && indices == 0:
		return empty{}, nil
	case indices > 0:
		out := make([]any, maxIndex)
		for i := range out {
			v, err := c.value(t.RawGetInt(i+1), depth)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	out := make(map[string]any, names)
	var err error
	t.ForEach(func(k, item lua.LValue) {
		if err != nil {
			return
		}
		var v any
		if v, err = c.value(item, depth); err == nil {
			out[string(k.(lua.LString))] = v
		}
	})
	return out, err
}
