package interpreter

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	configv1alpha1 "github.com/tether-io/tether/pkg/apis/config/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

func ric(name, version string, rules configv1alpha1.CustomizationRules) *configv1alpha1.ResourceInterpreterCustomization {
	return &configv1alpha1.ResourceInterpreterCustomization{ObjectMeta: metav1.ObjectMeta{Name: name, ResourceVersion: version},
		Spec: configv1alpha1.ResourceInterpreterCustomizationSpec{Target: configv1alpha1.CustomizationTarget{APIVersion: "example.io/v1", Kind: "Widget"},
			Customizations: rules}}
}

func health(src string) *configv1alpha1.HealthInterpretation {
	return &configv1alpha1.HealthInterpretation{LuaScript: src}
}

func widget(ready int64) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{"apiVersion": "example.io/v1", "kind": "Widget",
		"metadata": map[string]any{"name": "w", "namespace": "default"},
		"status":   map[string]any{"ready": ready, "secret": "do-not-echo"}}}
}

func TestCustomizationsComeBeforeBuiltIns(t *testing.T) {
	var changedStatus, changedRetention []schema.GroupVersionKind
	i := New(Config{Changed: func(s, r []schema.GroupVersionKind) { changedStatus, changedRetention = s, r }})
	// Without a customization a kind without a rule is judged by the built-in rules.
	if h, err := i.Health(widget(0)); err != nil || h == "" {
		t.Fatalf("built-in health: %v %v", h, err)
	}
	i.Load([]*configv1alpha1.ResourceInterpreterCustomization{
		ric("b", "1", configv1alpha1.CustomizationRules{HealthInterpretation: health(`function InterpretHealth(o) return false end`)}),
		ric("a", "1", configv1alpha1.CustomizationRules{HealthInterpretation: health(`function InterpretHealth(o) return o.status.ready > 0 end`),
			StatusReflection: &configv1alpha1.StatusReflection{LuaScript: `function ReflectStatus(o) return {ready = o.status.ready} end`}}),
	})
	if len(changedStatus) != 1 || len(changedRetention) != 0 {
		t.Fatalf("changed %v %v", changedStatus, changedRetention)
	}
	if h, err := i.Health(widget(1)); err != nil || h != workv1alpha1.ResourceHealthy {
		t.Fatalf("customized health (a wins by name): %v %v", h, err)
	}
	if h, _ := i.Health(widget(0)); h != workv1alpha1.ResourceUnhealthy {
		t.Fatalf("customized health: %v", h)
	}
	raw, err := i.ReflectStatus(widget(2))
	if err != nil || string(raw.Raw) != `{"ready":2}` {
		t.Fatalf("reflected %s %v", raw, err)
	}
	// An unchanged load changes nothing; an update of a changes the verdict.
	changedStatus = nil
	i.Load([]*configv1alpha1.ResourceInterpreterCustomization{ric("a", "1", configv1alpha1.CustomizationRules{HealthInterpretation: health(`function InterpretHealth(o) return o.status.ready > 0 end`)})})
	if len(changedStatus) != 1 { // b's rule and a's reflection are gone
		t.Fatalf("changed %v", changedStatus)
	}
	i.Load([]*configv1alpha1.ResourceInterpreterCustomization{ric("a", "2", configv1alpha1.CustomizationRules{HealthInterpretation: health(`function InterpretHealth(o) return o.status.ready > 5 end`)})})
	if h, _ := i.Health(widget(1)); h != workv1alpha1.ResourceUnhealthy {
		t.Fatalf("updated health: %v", h)
	}
	// Deleting every customization returns the kind to the built-in rules.
	i.Load(nil)
	if raw, err := i.ReflectStatus(widget(3)); err != nil || !strings.Contains(string(raw.Raw), `"ready":3`) {
		t.Fatalf("built-in reflection: %s %v", raw, err)
	}
}

func TestFailingScriptsAreErrorsNamingTheCustomization(t *testing.T) {
	i := New(Config{})
	i.Load([]*configv1alpha1.ResourceInterpreterCustomization{ric("widgets", "1", configv1alpha1.CustomizationRules{
		HealthInterpretation: health(`function InterpretHealth(o) return o.status.secret end`),
		StatusReflection:     &configv1alpha1.StatusReflection{LuaScript: `function ReflectStatus(o) return {`},
		Retention:            &configv1alpha1.LocalValueRetention{LuaScript: `function Retain(d, o) error("nope") end`},
	})})
	h, err := i.Health(widget(1))
	if h != workv1alpha1.ResourceUnknown || err == nil ||
		err.Error() != "ResourceInterpreterCustomization widgets, healthInterpretation: InterpretHealth: returned a string, want a boolean" {
		t.Fatalf("health %v %v", h, err)
	}
	if _, err := i.ReflectStatus(widget(1)); err == nil || !strings.Contains(err.Error(), "ResourceInterpreterCustomization widgets, statusReflection: the script does not compile") {
		t.Fatalf("reflect %v", err)
	}
	if _, err := i.Retain(widget(1), widget(2)); err == nil || !strings.Contains(err.Error(), "retention: Retain: runtime error: widgets/retention:1: nope") {
		t.Fatalf("retain %v", err)
	}
	for _, e := range []error{err} {
		if strings.Contains(e.Error(), "do-not-echo") {
			t.Fatalf("echoes content: %v", e)
		}
	}
}
