package override

import (
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// clusterMatches tells whether a rule's targetCluster selects the cluster
// (Karmada's util.ClusterMatches); nil selects every cluster. In order: an
// excluded name never matches; the labelSelector must match the Cluster's
// labels; each fieldSelector expression must hold; clusterNames, when set,
// must list the cluster.
//
// A fieldSelector key other than provider, region or zone, or an operator
// other than In or NotIn, is an error: Karmada's webhook rejects such
// policies. Faults Karmada admits (an invalid labelSelector, an invalid
// value) match nothing, as there.
func clusterMatches(cluster *clusterv1alpha1.Cluster, affinity *policyv1alpha1.ClusterAffinity) (bool, error) {
	if affinity == nil {
		return true, nil
	}
	if err := checkFieldSelector(affinity.FieldSelector); err != nil {
		return false, err
	}
	if slices.Contains(affinity.ExcludeClusters, cluster.Name) {
		return false, nil
	}
	if affinity.LabelSelector != nil {
		s, err := metav1.LabelSelectorAsSelector(affinity.LabelSelector)
		if err != nil || !s.Matches(labels.Set(cluster.Labels)) {
			return false, nil
		}
	}
	if affinity.FieldSelector != nil {
		for _, expr := range affinity.FieldSelector.MatchExpressions {
			if !fieldMatches(cluster, expr) {
				return false, nil
			}
		}
	}
	return len(affinity.ClusterNames) == 0 || slices.Contains(affinity.ClusterNames, cluster.Name), nil
}

// checkFieldSelector rejects what Karmada's validation rejects.
func checkFieldSelector(fs *policyv1alpha1.FieldSelector) error {
	if fs == nil {
		return nil
	}
	for i, expr := range fs.MatchExpressions {
		at := fmt.Sprintf("targetCluster.fieldSelector.matchExpressions[%d].", i)
		switch expr.Key {
		case policyv1alpha1.ProviderField, policyv1alpha1.RegionField, policyv1alpha1.ZoneField:
		default:
			return errField(at+"key", "unsupported key %q: use provider, region or zone", expr.Key)
		}
		switch expr.Operator {
		case corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn:
		default:
			return errField(at+"operator", "unsupported operator %q: use In or NotIn", expr.Operator)
		}
	}
	return nil
}

// fieldMatches evaluates one fieldSelector expression. provider and region
// compare spec.provider and spec.region as label selectors do (an empty
// field is absent, so In fails and NotIn holds); zone compares spec.zones:
// In holds when at least one zone is listed (never with no zones), NotIn
// when none is.
func fieldMatches(cluster *clusterv1alpha1.Cluster, expr corev1.NodeSelectorRequirement) bool {
	if expr.Key == policyv1alpha1.ZoneField {
		listed := slices.ContainsFunc(cluster.Spec.Zones, func(z string) bool { return slices.Contains(expr.Values, z) })
		if expr.Operator == corev1.NodeSelectorOpIn {
			return listed
		}
		return !listed
	}
	fields := labels.Set{}
	if cluster.Spec.Provider != "" {
		fields[policyv1alpha1.ProviderField] = cluster.Spec.Provider
	}
	if cluster.Spec.Region != "" {
		fields[policyv1alpha1.RegionField] = cluster.Spec.Region
	}
	op := selection.In
	if expr.Operator == corev1.NodeSelectorOpNotIn {
		op = selection.NotIn
	}
	r, err := labels.NewRequirement(expr.Key, op, expr.Values)
	if err != nil {
		return false
	}
	return r.Matches(fields)
}
