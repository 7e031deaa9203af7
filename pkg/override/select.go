package override

import (
	"cmp"
	"slices"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// implicitPriority is how specifically a policy's resourceSelectors match a
// manifest (Karmada's util.ImplicitPriority).
type implicitPriority int

const (
	priorityMismatch implicitPriority = iota
	priorityMatchAll
	priorityMatchLabelSelector
	priorityMatchName
)

// candidate is a policy of either kind, reduced to what selection needs.
type candidate struct {
	ref  PolicyRef
	spec *policyv1alpha1.OverrideSpec
	// selectorNamespace fills a resourceSelector's empty namespace: the
	// policy's namespace for an OverridePolicy (Karmada's mutating webhook
	// does this), empty (any namespace) for a ClusterOverridePolicy.
	selectorNamespace string
}

// orderPolicies keeps the policies whose resourceSelectors match obj (an
// empty list matches everything) and sorts them stably by implicit priority
// (match-all < labelSelector < name), then by name. Later policies are
// applied later and so win.
func orderPolicies(obj *unstructured.Unstructured, policies []candidate) []candidate {
	type ranked struct {
		candidate
		priority implicitPriority
	}
	matched := make([]ranked, 0, len(policies))
	for _, p := range policies {
		if prio := policyPriority(obj, p); prio != priorityMismatch {
			matched = append(matched, ranked{p, prio})
		}
	}
	slices.SortStableFunc(matched, func(a, b ranked) int {
		return cmp.Or(cmp.Compare(a.priority, b.priority), cmp.Compare(a.ref.Name, b.ref.Name))
	})
	out := make([]candidate, len(matched))
	for i := range matched {
		out[i] = matched[i].candidate
	}
	return out
}

// policyPriority is the highest priority among the policy's selectors that
// match obj; a policy without selectors matches everything.
func policyPriority(obj *unstructured.Unstructured, p candidate) implicitPriority {
	if len(p.spec.ResourceSelectors) == 0 {
		return priorityMatchAll
	}
	best := priorityMismatch
	for i := range p.spec.ResourceSelectors {
		best = max(best, selectorPriority(obj, &p.spec.ResourceSelectors[i], p.selectorNamespace))
	}
	return best
}

// selectorPriority matches one resourceSelector: apiVersion and kind must be
// equal, namespace too when set; then a name, if set, must be equal (the
// labelSelector is then ignored); else a labelSelector, if set, must match;
// else the selector matches all. An invalid labelSelector matches nothing,
// as in Karmada.
func selectorPriority(obj *unstructured.Unstructured, rs *policyv1alpha1.ResourceSelector, defaultNamespace string) implicitPriority {
	namespace := cmp.Or(rs.Namespace, defaultNamespace)
	if obj.GetAPIVersion() != rs.APIVersion || obj.GetKind() != rs.Kind ||
		(namespace != "" && obj.GetNamespace() != namespace) {
		return priorityMismatch
	}
	if rs.Name != "" {
		if rs.Name == obj.GetName() {
			return priorityMatchName
		}
		return priorityMismatch
	}
	if rs.LabelSelector == nil {
		return priorityMatchAll
	}
	s, err := metav1.LabelSelectorAsSelector(rs.LabelSelector)
	if err != nil || !s.Matches(labels.Set(obj.GetLabels())) {
		return priorityMismatch
	}
	return priorityMatchLabelSelector
}
