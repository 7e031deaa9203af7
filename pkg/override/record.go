package override

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// Applied records what was applied, in the shape of Karmada's annotations:
// one OverridePolicyShadow per applied rule (policy name, the rule's
// overriders), sorted by policy name. Karmada sorts unstably; here the rules
// of one policy keep their order.
type Applied struct {
	// ClusterOverrides is the value of policy.karmada.io/applied-cluster-overrides.
	ClusterOverrides []policyv1alpha1.OverridePolicyShadow
	// Overrides is the value of policy.karmada.io/applied-overrides.
	Overrides []policyv1alpha1.OverridePolicyShadow
}

// Annotations returns the applied-cluster-overrides and applied-overrides
// annotation values, as JSON arrays. A group with nothing applied has no
// key, as Karmada writes no annotation for it.
func (a Applied) Annotations() (map[string]string, error) {
	out := map[string]string{}
	for key, shadows := range map[string][]policyv1alpha1.OverridePolicyShadow{
		policyv1alpha1.AppliedClusterOverrides: a.ClusterOverrides,
		policyv1alpha1.AppliedOverrides:        a.Overrides,
	} {
		if len(shadows) == 0 {
			continue
		}
		raw, err := json.Marshal(shadows)
		if err != nil {
			return nil, fmt.Errorf("encoding %s: %w", key, err)
		}
		out[key] = string(raw)
	}
	return out, nil
}

// annotate records a on obj: its annotations replace those of the same key,
// and a group with nothing applied leaves its key as it was, as Karmada's
// control plane does.
func annotate(obj *unstructured.Unstructured, a Applied) error {
	ann, err := a.Annotations()
	if err != nil || len(ann) == 0 {
		return err
	}
	all := obj.GetAnnotations()
	if all == nil {
		all = map[string]string{}
	}
	maps.Copy(all, ann)
	obj.SetAnnotations(all)
	return nil
}

// sortShadows sorts a record by policy name, stably.
func sortShadows(shadows []policyv1alpha1.OverridePolicyShadow) {
	slices.SortStableFunc(shadows, func(a, b policyv1alpha1.OverridePolicyShadow) int {
		return cmp.Compare(a.PolicyName, b.PolicyName)
	})
}
