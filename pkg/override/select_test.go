package override

import (
	"reflect"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

func TestSelectorPriority(t *testing.T) {
	labels := func(kv ...string) *metav1.LabelSelector {
		return &metav1.LabelSelector{MatchLabels: map[string]string{kv[0]: kv[1]}}
	}
	tests := []struct {
		name             string
		rs               policyv1alpha1.ResourceSelector
		defaultNamespace string
		want             implicitPriority
	}{
		{"match all", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment"}, "", priorityMatchAll},
		{"apiVersion differs", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1beta1", Kind: "Deployment"}, "", priorityMismatch},
		{"kind differs", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "StatefulSet"}, "", priorityMismatch},
		{"namespace matches", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "default"}, "", priorityMatchAll},
		{"namespace differs", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "other"}, "", priorityMismatch},
		{"empty namespace means the policy's", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment"}, "other", priorityMismatch},
		{"name matches", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}, "", priorityMatchName},
		{"name differs", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Name: "api"}, "", priorityMismatch},
		{"name ignores labelSelector", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Name: "web", LabelSelector: labels("app", "x")}, "", priorityMatchName},
		{"labelSelector matches", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", LabelSelector: labels("app", "web")}, "", priorityMatchLabelSelector},
		{"labelSelector differs", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", LabelSelector: labels("app", "x")}, "", priorityMismatch},
		{"labelSelector invalid", policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", LabelSelector: labels("", "x")}, "", priorityMismatch},
	}
	obj := workload("Deployment", "nginx")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := selectorPriority(obj, &tt.rs, tt.defaultNamespace); got != tt.want {
				t.Errorf("selectorPriority = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestOrderPolicies(t *testing.T) {
	all := policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment"}
	byLabel := policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}}
	byName := policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}
	miss := policyv1alpha1.ResourceSelector{APIVersion: "v1", Kind: "Service"}
	policy := func(name string, selectors ...policyv1alpha1.ResourceSelector) candidate {
		return candidate{ref: PolicyRef{Name: name}, spec: &policyv1alpha1.OverrideSpec{ResourceSelectors: selectors}}
	}
	tests := []struct {
		name     string
		policies []candidate
		want     []string
	}{
		{"priority before name", []candidate{policy("a-name", byName), policy("b-label", byLabel), policy("c-all", all), policy("d-none")},
			[]string{"c-all", "d-none", "b-label", "a-name"}},
		{"ties by name", []candidate{policy("z", byLabel), policy("m", byLabel), policy("a", byLabel)}, []string{"a", "m", "z"}},
		{"mismatch dropped", []candidate{policy("a", miss), policy("b", miss, byLabel)}, []string{"b"}},
		{"highest selector counts", []candidate{policy("a", byName, all), policy("b", byLabel)}, []string{"b", "a"}},
		{"none", nil, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := []string{}
			for _, p := range orderPolicies(workload("Deployment", "nginx"), tt.policies) {
				got = append(got, p.ref.Name)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("order = %v, want %v", got, tt.want)
			}
		})
	}
}
