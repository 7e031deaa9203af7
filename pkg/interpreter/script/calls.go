package script

import (
	"context"

	lua "github.com/yuin/gopher-lua"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Function names a customization's script defines.
const (
	FuncReflectStatus   = "ReflectStatus"
	FuncInterpretHealth = "InterpretHealth"
	FuncRetain          = "Retain"
)

// ReflectStatus runs ReflectStatus(observedObj). It returns the status to
// report (nil when the script returns nil). Empty tables inside it are
// dropped and an empty result is {}, as karmada-agent does.
func (r *Runner) ReflectStatus(ctx context.Context, p *Program, observed *unstructured.Unstructured) (map[string]any, error) {
	vals, err := r.call(ctx, p, FuncReflectStatus, 1, observed.Object)
	if err != nil {
		return nil, err
	}
	switch v := vals[0].(type) {
	case *lua.LNilType:
		return nil, nil
	case empty:
		return map[string]any{}, nil
	case map[string]any:
		out, _ := newShapes().resolve(v, nil)
		return out.(map[string]any), nil
	case []any:
		return nil, failf(FuncReflectStatus, "returned a list, want a table with string keys (the status) or nil")
	}
	return nil, failf(FuncReflectStatus, "returned %s, want a table (the status) or nil", typeName(vals[0]))
}

// InterpretHealth runs InterpretHealth(observedObj), which must return a boolean.
func (r *Runner) InterpretHealth(ctx context.Context, p *Program, observed *unstructured.Unstructured) (bool, error) {
	vals, err := r.call(ctx, p, FuncInterpretHealth, 1, observed.Object)
	if err != nil {
		return false, err
	}
	if b, ok := vals[0].(lua.LBool); ok {
		return bool(b), nil
	}
	return false, failf(FuncInterpretHealth, "returned %s, want a boolean", typeName(vals[0]))
}

// Retain runs Retain(desiredObj, observedObj), which must return an object
// of the desired object's apiVersion, kind, namespace and name. Empty
// tables in it become {} or [] where desired or observed hold one at that
// path, and are dropped elsewhere.
func (r *Runner) Retain(ctx context.Context, p *Program, desired, observed *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	vals, err := r.call(ctx, p, FuncRetain, 1, desired.Object, observed.Object)
	if err != nil {
		return nil, err
	}
	m, ok := vals[0].(map[string]any)
	if !ok {
		return nil, failf(FuncRetain, "returned %s, want the desired object", typeName(vals[0]))
	}
	resolved, _ := newShapes(desired.Object, observed.Object).resolve(m, nil)
	out := &unstructured.Unstructured{Object: resolved.(map[string]any)}
	if out.GetAPIVersion() != desired.GetAPIVersion() || out.GetKind() != desired.GetKind() ||
		out.GetName() != desired.GetName() || out.GetNamespace() != desired.GetNamespace() {
		return nil, failf(FuncRetain, "returned an object with another apiVersion, kind, namespace or name than the desired object")
	}
	return out, nil
}

// typeName names a result for a message, never its value.
func typeName(v any) string {
	switch v := v.(type) {
	case *lua.LNilType:
		return "nil"
	case lua.LValue:
		return "a " + v.Type().String()
	case empty, map[string]any:
		return "a table"
	case []any:
		return "a list"
	}
	return "an unexpected value"
}
