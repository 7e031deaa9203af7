package script

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func obj(m map[string]any) *unstructured.Unstructured { return &unstructured.Unstructured{Object: m} }

func widget() *unstructured.Unstructured {
	return obj(map[string]any{
		"apiVersion": "example.io/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w", "namespace": "default", "annotations": map[string]any{"a.b/c": "x"}},
		"spec":     map[string]any{"replicas": int64(3), "paused": false, "volumes": []any{map[string]any{"name": "v", "emptyDir": map[string]any{}}}, "args": []any{}},
		"status": map[string]any{"readyReplicas": int64(3), "phase": "Running", "ratio": 0.5, "secretHint": "s3cr3t",
			"conditions": []any{map[string]any{"type": "Ready", "status": "True"}}},
	})
}

func compile(t *testing.T, src string) *Program {
	t.Helper()
	p, err := Compile("test", src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReflectStatusReturnsASubset(t *testing.T) {
	r := NewRunner(Limits{})
	p := compile(t, `function ReflectStatus(o)
		local s = {}
		s.readyReplicas = o.status.readyReplicas
		s.phase = o.status.phase
		s.ratio = o.status.ratio
		s.conditions = o.status.conditions
		s.empty = {}
		return s
	end`)
	got, err := r.ReflectStatus(context.Background(), p, widget())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"readyReplicas": int64(3), "phase": "Running", "ratio": 0.5,
		"conditions": []any{map[string]any{"type": "Ready", "status": "True"}}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v, want %#v", got, want)
	}
	nilp := compile(t, `function ReflectStatus(o) return nil end`)
	if got, err := r.ReflectStatus(context.Background(), nilp, widget()); err != nil || got != nil {
		t.Fatalf("nil result: %v %v", got, err)
	}
}

func TestInterpretHealth(t *testing.T) {
	r := NewRunner(Limits{})
	p := compile(t, `function InterpretHealth(o)
		return o.status.readyReplicas == o.spec.replicas and not o.spec.paused
	end`)
	w := widget()
	if ok, err := r.InterpretHealth(context.Background(), p, w); err != nil || !ok {
		t.Fatalf("healthy: %v %v", ok, err)
	}
	w.Object["status"].(map[string]any)["readyReplicas"] = int64(1)
	if ok, err := r.InterpretHealth(context.Background(), p, w); err != nil || ok {
		t.Fatalf("unhealthy: %v %v", ok, err)
	}
}

func TestRetainKeepsObservedFieldAndEmptyShapes(t *testing.T) {
	r := NewRunner(Limits{})
	p := compile(t, `function Retain(desired, observed)
		desired.spec.replicas = observed.spec.replicas
		return desired
	end`)
	desired, observed := widget(), widget()
	desired.Object["spec"].(map[string]any)["replicas"] = int64(1)
	observed.Object["spec"].(map[string]any)["replicas"] = int64(7)
	got, err := r.Retain(context.Background(), p, desired, observed)
	if err != nil {
		t.Fatal(err)
	}
	spec := got.Object["spec"].(map[string]any)
	if spec["replicas"] != int64(7) {
		t.Errorf("replicas %v, want 7", spec["replicas"])
	}
	if v := spec["volumes"].([]any)[0].(map[string]any)["emptyDir"]; !reflect.DeepEqual(v, map[string]any{}) {
		t.Errorf("emptyDir %#v, want {}", v)
	}
	if v := spec["args"]; !reflect.DeepEqual(v, []any{}) {
		t.Errorf("args %#v, want []", v)
	}
	if got.GetAnnotations()["a.b/c"] != "x" {
		t.Errorf("annotations %v", got.GetAnnotations())
	}
	rename := compile(t, `function Retain(d, o) d.metadata.name = "other" return d end`)
	if _, err := r.Retain(context.Background(), rename, desired, observed); err == nil || !strings.Contains(err.Error(), "another apiVersion, kind, namespace or name") {
		t.Fatalf("renamed: %v", err)
	}
}

func TestEndlessLoopIsStoppedWithinItsBudget(t *testing.T) {
	r := NewRunner(Limits{Timeout: 200 * time.Millisecond})
	for _, src := range []string{
		`function InterpretHealth(o) while true do end end`,
		`function InterpretHealth(o) while true do pcall(function() while true do end end) end end`,
		`function InterpretHealth(o) local function f() return f() end return f() end`,
	} {
		start := time.Now()
		_, err := r.InterpretHealth(context.Background(), compile(t, src), widget())
		took := time.Since(start)
		if err == nil {
			t.Fatalf("%s: no error", src)
		}
		if took > 5*time.Second {
			t.Fatalf("%s: stopped after %s, budget 200ms", src, took)
		}
		t.Logf("%s: %v after %s", src, err, took)
	}
}

func TestAllocationWithoutBoundIsStopped(t *testing.T) {
	r := NewRunner(Limits{Timeout: 60 * time.Second, Memory: 16 << 20})
	for _, src := range []string{
		`function ReflectStatus(o) local t = {} local i = 0 while true do i = i + 1 t[i] = {i, tostring(i)} end end`,
		`function ReflectStatus(o) local s = "x" while true do s = s .. s .. "y" end end`,
		`function ReflectStatus(o) return {s = string.rep("x", 1e9)} end`,
		`function ReflectStatus(o) local t = {} for i = 1, 2000 do t[i] = string.rep("x", 1000) end return {s = table.concat(t)} end`,
		`function ReflectStatus(o) return {s = string.format("%099999d", 1)} end`,
	} {
		start := time.Now()
		_, err := r.ReflectStatus(context.Background(), compile(t, src), widget())
		if err == nil {
			t.Fatalf("%s: no error", src)
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("%s: took %s", src, time.Since(start))
		}
		t.Logf("%v after %s", err, time.Since(start))
	}
	// A call stuck in a library function still allocates after its error;
	// it must end, so that the heap it grows cannot reach other tests.
	deadline := time.Now().Add(30 * time.Second)
	for r.abandoned.Load() > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d abandoned calls still running", r.abandoned.Load())
		}
		<-time.After(10 * time.Millisecond)
	}
}

func TestBudgetStopPausesTheScript(t *testing.T) {
	// The budget is long enough that a paused call, which must not run the
	// script at all, cannot be mistaken for one that ran into the budget
	// even on a loaded machine. The heap budget is out of reach: the
	// watchdog cannot tell goroutines apart, and a call an earlier test
	// abandoned inside string.rep may still be allocating.
	r := NewRunner(Limits{Timeout: 2 * time.Second, Pause: time.Hour, Memory: 1 << 40})
	p := compile(t, `function InterpretHealth(o) while true do end end`)
	if _, err := r.InterpretHealth(context.Background(), p, widget()); !IsBudget(err) || !strings.Contains(err.Error(), "ran longer than its budget of 2s") {
		t.Fatalf("first call: %v", err)
	}
	start := time.Now()
	_, err := r.InterpretHealth(context.Background(), p, widget())
	if !IsBudget(err) || !strings.Contains(err.Error(), "paused until") || time.Since(start) > time.Second {
		t.Fatalf("second call: %v after %s", err, time.Since(start))
	}
}

func TestFailuresAreClearMessages(t *testing.T) {
	r := NewRunner(Limits{})
	for src, want := range map[string]string{
		`function InterpretHealth(o) return o.spec.missing.field end`:     "InterpretHealth: runtime error: test:1: attempt to index a non-table object(nil) with key 'field'",
		`function InterpretHealth(o) return o.status.phase end`:           "InterpretHealth: returned a string, want a boolean",
		`function InterpretHealth(o) if false then return true end end`:   "InterpretHealth: returned nil, want a boolean",
		`function Other(o) return true end`:                               "InterpretHealth: the script does not define function InterpretHealth",
		`function InterpretHealth(o) return os.execute("true") end`:       "InterpretHealth: runtime error: test:1: attempt to index a non-table object(nil) with key 'execute'",
		`function InterpretHealth(o) return io.open("/etc/passwd") end`:   "InterpretHealth: runtime error: test:1: attempt to index a non-table object(nil) with key 'open'",
		`function InterpretHealth(o) return require("os") end`:            "InterpretHealth: runtime error: test:1: require is not available to resource interpreter scripts",
		`function InterpretHealth(o) return loadstring("return 1")() end`: "InterpretHealth: runtime error: test:1: loadstring is not available to resource interpreter scripts",
		`function InterpretHealth(o) string.upper = nil return true end`:  "InterpretHealth: runtime error: test:1: library tables are read-only",
	} {
		_, err := r.InterpretHealth(context.Background(), compile(t, src), widget())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s:\n got %v\nwant %s", src, err, want)
		}
		if err != nil && strings.Contains(err.Error(), "Running") {
			t.Errorf("%s: the message echoes the object: %v", src, err)
		}
	}
	for src, want := range map[string]string{
		`function ReflectStatus(o) return {1, 2} end`:                 "returned a list",
		`function ReflectStatus(o) return 3 end`:                      "returned a number",
		`function ReflectStatus(o) return {a = print} end`:            "holds a function",
		`function ReflectStatus(o) local t = {} t.t = t return t end`: "nested deeper than",
		`function ReflectStatus(o) return {[1] = 1, a = 2} end`:       "mixes string keys and list items",
		`function ReflectStatus(o) return {a = 0/0} end`:              "not finite",
	} {
		_, err := r.ReflectStatus(context.Background(), compile(t, src), widget())
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", src, err, want)
		}
	}
	if _, err := Compile("bad", "function ReflectStatus(o) return {"); err == nil || !strings.Contains(err.Error(), "does not compile") {
		t.Errorf("compile error: %v", err)
	}
}

func TestCallsDoNotShareGlobals(t *testing.T) {
	r := NewRunner(Limits{States: 1})
	set := compile(t, `leaked = true function InterpretHealth(o) return true end`)
	read := compile(t, `function InterpretHealth(o) return leaked == nil and _G.leaked == nil and string.upper("a") == "A" end`)
	for range 3 {
		if _, err := r.InterpretHealth(context.Background(), set, widget()); err != nil {
			t.Fatal(err)
		}
		if ok, err := r.InterpretHealth(context.Background(), read, widget()); err != nil || !ok {
			t.Fatalf("a global leaked between calls: %v %v", ok, err)
		}
	}
}
