package interpreter

import (
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/runtime/schema"

	configv1alpha1 "github.com/tether-io/tether/pkg/apis/config/v1alpha1"
	"github.com/tether-io/tether/pkg/interpreter/script"
)

// Operation is a rule the agent runs.
type Operation string

// The operations run at the edge.
const (
	OpReflectStatus Operation = "statusReflection"
	OpHealth        Operation = "healthInterpretation"
	OpRetain        Operation = "retention"
)

// rule is one compiled script of one customization, or why it did not compile.
type rule struct {
	ric     string // the customization's name
	version string // its resourceVersion
	prog    *script.Program
	err     error
}

// same reports whether a and b are the same script of the same customization version.
func (a *rule) same(b *rule) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.ric == b.ric && a.version == b.version
}

// kindRules are the rules for one kind, by operation.
type kindRules map[Operation]*rule

// ruleSet is every kind's rules.
type ruleSet map[schema.GroupVersionKind]kindRules

// scripts returns the scripts of c by operation (only those set).
func scripts(c *configv1alpha1.ResourceInterpreterCustomization) map[Operation]string {
	out := map[Operation]string{}
	r := c.Spec.Customizations
	if r.StatusReflection != nil {
		out[OpReflectStatus] = r.StatusReflection.LuaScript
	}
	if r.HealthInterpretation != nil {
		out[OpHealth] = r.HealthInterpretation.LuaScript
	}
	if r.Retention != nil {
		out[OpRetain] = r.Retention.LuaScript
	}
	return out
}

// buildRules makes the rule set of customizations, reusing the compiled
// rules of prev for customization versions it already compiled.
func buildRules(customizations []*configv1alpha1.ResourceInterpreterCustomization, prev ruleSet) ruleSet {
	compiled := map[[3]string]*rule{}
	for _, kr := range prev {
		for op, r := range kr {
			compiled[[3]string{r.ric, r.version, string(op)}] = r
		}
	}
	sorted := append([]*configv1alpha1.ResourceInterpreterCustomization(nil), customizations...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	out := ruleSet{}
	for _, c := range sorted {
		gvk := schema.FromAPIVersionAndKind(c.Spec.Target.APIVersion, c.Spec.Target.Kind)
		kr := out[gvk]
		if kr == nil {
			kr = kindRules{}
			out[gvk] = kr
		}
		for op, src := range scripts(c) {
			if kr[op] != nil {
				continue // the first customization by name wins
			}
			if r, ok := compiled[[3]string{c.Name, c.ResourceVersion, string(op)}]; ok {
				kr[op] = r
				continue
			}
			r := &rule{ric: c.Name, version: c.ResourceVersion}
			r.prog, r.err = script.Compile(fmt.Sprintf("%s/%s", c.Name, op), src)
			kr[op] = r
		}
	}
	return out
}

// changes lists the kinds whose rule for some operation differs between
// a and b, by whether a retention rule changed.
func changes(a, b ruleSet) (status, retention []schema.GroupVersionKind) {
	seen := map[schema.GroupVersionKind]bool{}
	for _, set := range []ruleSet{a, b} {
		for gvk := range set {
			if seen[gvk] {
				continue
			}
			seen[gvk] = true
			if !a[gvk][OpReflectStatus].same(b[gvk][OpReflectStatus]) || !a[gvk][OpHealth].same(b[gvk][OpHealth]) {
				status = append(status, gvk)
			}
			if !a[gvk][OpRetain].same(b[gvk][OpRetain]) {
				retention = append(retention, gvk)
			}
		}
	}
	return status, retention
}
