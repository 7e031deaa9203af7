package override

import (
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// BenchmarkRenderDeployment50Policies renders a three-container Deployment
// against 25 ClusterOverridePolicies and 25 OverridePolicies that all match,
// with match-all, labelSelector and name selectors, two rules each, and
// every overrider kind among them (plaintext in one policy in five).
func BenchmarkRenderDeployment50Policies(b *testing.B) {
	manifest := workload("Deployment", "nginx:1.0", "registry.example.com/sidecar:2", "busybox")
	manifest.SetAnnotations(map[string]string{"config": `{"level":"info"}`})
	var policies Policies
	for i := range 50 {
		spec := benchSpec(b, i)
		if i%2 == 0 {
			p := &policyv1alpha1.ClusterOverridePolicy{Spec: spec}
			p.Name = fmt.Sprintf("cop-%02d", i)
			policies.ClusterOverridePolicies = append(policies.ClusterOverridePolicies, p)
		} else {
			p := &policyv1alpha1.OverridePolicy{Spec: spec}
			p.Name, p.Namespace = fmt.Sprintf("op-%02d", i), "default"
			policies.OverridePolicies = append(policies.OverridePolicies, p)
		}
	}
	cluster := member()
	if res, err := Render(manifest, cluster, policies); err != nil || len(res.Applied.ClusterOverrides)+len(res.Applied.Overrides) != 100 {
		b.Fatalf("setup: %v", err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Render(manifest, cluster, policies); err != nil {
			b.Fatal(err)
		}
	}
}

func benchSpec(b *testing.B, i int) policyv1alpha1.OverrideSpec {
	selector := policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment"}
	switch i % 3 {
	case 1:
		selector.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"app": "web"}}
	case 2:
		selector.Name = "web"
	}
	first := policyv1alpha1.Overriders{
		ImageOverrider:  []policyv1alpha1.ImageOverrider{{Component: "Tag", Operator: "replace", Value: fmt.Sprintf("v%d", i)}},
		LabelsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"policy": fmt.Sprint(i)}}},
		ArgsOverrider:   []policyv1alpha1.CommandArgsOverrider{{ContainerName: "c0", Operator: "add", Value: []string{fmt.Sprintf("--p%d", i)}}},
	}
	second := policyv1alpha1.Overriders{
		AnnotationsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"example.com/policy": fmt.Sprint(i)}}},
		CommandOverrider:     []policyv1alpha1.CommandArgsOverrider{{ContainerName: "c1", Operator: "remove", Value: []string{"x"}}},
		FieldOverrider: []policyv1alpha1.FieldOverrider{{FieldPath: "/metadata/annotations/config",
			JSON: []policyv1alpha1.JSONPatchOperation{{SubPath: "/level", Operator: "replace", Value: rawJSON(b, fmt.Sprint(i))}}}},
	}
	if i%5 == 0 {
		second.Plaintext = []policyv1alpha1.PlaintextOverrider{{Path: "/spec/replicas", Operator: "add", Value: rawJSON(b, i)}}
	}
	return policyv1alpha1.OverrideSpec{
		ResourceSelectors: []policyv1alpha1.ResourceSelector{selector},
		OverrideRules: []policyv1alpha1.RuleWithCluster{
			{Overriders: first},
			{TargetCluster: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}}, Overriders: second},
		},
	}
}
