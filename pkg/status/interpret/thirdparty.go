package interpret

import (
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// thirdParty is the built-in status reflection and health rule of one
// well-known custom kind. A nil reflect reports the whole .status, as
// karmada-agent does for a kind without a reflection script.
type thirdParty struct {
	gvk     schema.GroupVersionKind
	reflect reflector
	health  healthRule
}

// thirdParties are the custom kinds Tether knows, one file per project
// (thirdparty_<project>.go).
var thirdParties = concat(kruiseKinds, argoKinds, fluxKinds, kubeflowKinds, rayKinds)

func concat(lists ...[]thirdParty) []thirdParty {
	var out []thirdParty
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

// withThirdPartyHealth returns native with the third-party health rules added.
func withThirdPartyHealth(native map[schema.GroupVersionKind]healthRule) map[schema.GroupVersionKind]healthRule {
	for _, k := range thirdParties {
		native[k.gvk] = k.health
	}
	return native
}

// withThirdPartyReflectors returns native with the third-party reflectors added.
func withThirdPartyReflectors(native map[schema.GroupVersionKind]reflector) map[schema.GroupVersionKind]reflector {
	for _, k := range thirdParties {
		if k.reflect != nil {
			native[k.gvk] = k.reflect
		}
	}
	return native
}

// gvks expands one kind over several group versions.
func gvks(group, kind string, versions ...string) []schema.GroupVersionKind {
	out := make([]schema.GroupVersionKind, 0, len(versions))
	for _, v := range versions {
		out = append(out, schema.GroupVersionKind{Group: group, Version: v, Kind: kind})
	}
	return out
}

// statusHealth judges a third-party object by its status, which is there
// and is an object.
type statusHealth func(obj *unstructured.Unstructured, status map[string]any) workv1alpha1.ResourceHealth

// rule is h behind the verdicts every third-party rule shares: a status
// that is not an object is Unknown, and an object whose controller has
// not written a status yet is Unhealthy.
func (h statusHealth) rule() healthRule {
	return func(obj *unstructured.Unstructured) workv1alpha1.ResourceHealth {
		status, found, malformed := statusOf(obj)
		switch {
		case malformed:
			return unknown
		case !found:
			return unhealthy
		}
		return h(obj, status)
	}
}

// rules gives every kind in kinds the same reflector and health rule.
func rules(kinds []schema.GroupVersionKind, reflect reflector, health statusHealth) []thirdParty {
	out := make([]thirdParty, 0, len(kinds))
	for _, gvk := range kinds {
		out = append(out, thirdParty{gvk: gvk, reflect: reflect, health: health.rule()})
	}
	return out
}

// statusOf returns obj's .status: ok is false when it is absent, and
// malformed is true when it is not an object.
func statusOf(obj *unstructured.Unstructured) (status map[string]any, ok, malformed bool) {
	raw, found := obj.Object["status"]
	if !found || raw == nil {
		return nil, false, false
	}
	status, isMap := raw.(map[string]any)
	if !isMap {
		return nil, false, true
	}
	return status, true, false
}

// counter reads an integer field of m; absent reads as 0, as it does for
// the Kubernetes types whose zero counters are omitted. ok is false when
// the field holds something that is not an integer.
func counter(m map[string]any, field string) (n int64, ok bool) {
	switch v := m[field].(type) {
	case nil:
		return 0, true
	case int64:
		return v, true
	case int:
		return int64(v), true
	case float64:
		return int64(v), v == float64(int64(v))
	case string: // Argo Rollouts writes status.observedGeneration as a string
		n, err := strconv.ParseInt(v, 10, 64)
		return n, err == nil
	default:
		return 0, false
	}
}

// condition returns the status and reason of the condition of type t in
// status.conditions; found is false when there is none.
func condition(status map[string]any, t string) (value, reason string, found bool) {
	list, _ := status["conditions"].([]any)
	for _, c := range list {
		m, ok := c.(map[string]any)
		if !ok || m["type"] != t {
			continue
		}
		value, _ = m["status"].(string)
		reason, _ = m["reason"].(string)
		return value, reason, true
	}
	return "", "", false
}

// conditionTrue reports whether status has the condition t with status "True".
func conditionTrue(status map[string]any, t string) bool {
	v, _, _ := condition(status, t)
	return v == "True"
}

// subset reflects the named fields of .status as they are, plus the
// member generation and the resource template generation when
// withGenerations is set (the shape of Karmada's third-party reflection
// scripts). Absent fields are left out; nil when none is present.
func subset(withGenerations bool, fields ...string) reflector {
	return func(obj *unstructured.Unstructured, status map[string]any) (any, error) {
		out := make(map[string]any, len(fields)+2)
		for _, f := range fields {
			if v, ok := status[f]; ok && v != nil {
				out[f] = v
			}
		}
		if withGenerations {
			g := generationsOf(obj)
			if g.Generation != 0 {
				out["generation"] = g.Generation
			}
			if g.ResourceTemplateGeneration != 0 {
				out["resourceTemplateGeneration"] = g.ResourceTemplateGeneration
			}
		}
		if len(out) == 0 {
			return nil, nil
		}
		return out, nil
	}
}

// observed reports whether the controller has seen obj's current spec:
// status.observedGeneration is at least metadata.generation. An object
// without a generation counts as observed; a malformed observedGeneration
// makes ok false.
func observed(obj *unstructured.Unstructured, status map[string]any) (yes, ok bool) {
	g, ok := counter(status, "observedGeneration")
	if !ok {
		return false, false
	}
	return obj.GetGeneration() == 0 || g >= obj.GetGeneration(), true
}

// judged maps a well-formed verdict, or Unknown when the status could not
// be read.
func judged(ok, wellFormed bool) workv1alpha1.ResourceHealth {
	if !wellFormed {
		return unknown
	}
	return verdict(ok)
}
