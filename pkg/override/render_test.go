package override

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

func cop(name string, rules ...policyv1alpha1.RuleWithCluster) *policyv1alpha1.ClusterOverridePolicy {
	p := &policyv1alpha1.ClusterOverridePolicy{Spec: policyv1alpha1.OverrideSpec{OverrideRules: rules}}
	p.Name = name
	return p
}

func op(namespace, name string, rules ...policyv1alpha1.RuleWithCluster) *policyv1alpha1.OverridePolicy {
	p := &policyv1alpha1.OverridePolicy{Spec: policyv1alpha1.OverrideSpec{OverrideRules: rules}}
	p.Namespace, p.Name = namespace, name
	return p
}

func addLabel(k, v string) policyv1alpha1.Overriders {
	return policyv1alpha1.Overriders{LabelsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{k: v}}}}
}

func rule(o policyv1alpha1.Overriders) policyv1alpha1.RuleWithCluster {
	return policyv1alpha1.RuleWithCluster{Overriders: o}
}

func onCluster(name string, o policyv1alpha1.Overriders) policyv1alpha1.RuleWithCluster {
	return policyv1alpha1.RuleWithCluster{TargetCluster: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{name}}, Overriders: o}
}

func TestRenderSelectionAndOrder(t *testing.T) {
	byName := policyv1alpha1.ResourceSelector{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}
	tests := []struct {
		name      string
		manifest  *unstructured.Unstructured
		policies  Policies
		wantTier  any // the value of label "tier" afterwards (nil = absent)
		wantOrder []string
	}{
		{name: "cluster policies before namespaced ones",
			manifest: workload("Deployment", "nginx"),
			policies: Policies{
				OverridePolicies:        []*policyv1alpha1.OverridePolicy{op("default", "a", rule(addLabel("tier", "op")))},
				ClusterOverridePolicies: []*policyv1alpha1.ClusterOverridePolicy{cop("z", rule(addLabel("tier", "cop")))},
			},
			wantTier: "op", wantOrder: []string{"ClusterOverridePolicy z", "OverridePolicy default/a"}},
		{name: "other namespaces ignored",
			manifest: workload("Deployment", "nginx"),
			policies: Policies{OverridePolicies: []*policyv1alpha1.OverridePolicy{op("other", "a", rule(addLabel("tier", "x")))}}},
		{name: "cluster-scoped manifest gets no OverridePolicy",
			manifest: fromYAML(t, "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: default\n"),
			policies: Policies{
				OverridePolicies:        []*policyv1alpha1.OverridePolicy{op("", "a", rule(addLabel("tier", "op")))},
				ClusterOverridePolicies: []*policyv1alpha1.ClusterOverridePolicy{cop("c", rule(addLabel("tier", "cop")))},
			},
			wantTier: "cop", wantOrder: []string{"ClusterOverridePolicy c"}},
		{name: "name selector wins over match-all whatever the names",
			manifest: workload("Deployment", "nginx"),
			policies: Policies{ClusterOverridePolicies: []*policyv1alpha1.ClusterOverridePolicy{
				func() *policyv1alpha1.ClusterOverridePolicy {
					p := cop("a", rule(addLabel("tier", "named")))
					p.Spec.ResourceSelectors = []policyv1alpha1.ResourceSelector{byName}
					return p
				}(),
				cop("b", rule(addLabel("tier", "all"))),
			}},
			wantTier: "named", wantOrder: []string{"ClusterOverridePolicy b", "ClusterOverridePolicy a"}},
		{name: "ties by name",
			manifest: workload("Deployment", "nginx"),
			policies: Policies{OverridePolicies: []*policyv1alpha1.OverridePolicy{
				op("default", "b", rule(addLabel("tier", "b"))), op("default", "a", rule(addLabel("tier", "a"))),
			}},
			wantTier: "b", wantOrder: []string{"OverridePolicy default/a", "OverridePolicy default/b"}},
		{name: "rules in order, targetCluster filters",
			manifest: workload("Deployment", "nginx"),
			policies: Policies{OverridePolicies: []*policyv1alpha1.OverridePolicy{op("default", "p",
				rule(addLabel("tier", "1")), onCluster("member2", addLabel("tier", "2")), onCluster("member1", addLabel("tier", "3")),
			)}},
			wantTier: "3", wantOrder: []string{"OverridePolicy default/p", "OverridePolicy default/p"}},
		{name: "no policies"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.manifest == nil {
				tt.manifest = workload("Deployment", "nginx")
			}
			before := tt.manifest.DeepCopy()
			res, err := Render(tt.manifest, member(), tt.policies)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(tt.manifest, before) {
				t.Error("Render changed its input")
			}
			if got := res.Object.GetLabels()["tier"]; (tt.wantTier == nil && got != "") || (tt.wantTier != nil && got != tt.wantTier) {
				t.Errorf("tier = %q, want %v", got, tt.wantTier)
			}
			var order []string
			for _, c := range res.Changes {
				order = append(order, c.Policy.String())
			}
			if !reflect.DeepEqual(order, tt.wantOrder) {
				t.Errorf("applied %v, want %v", order, tt.wantOrder)
			}
		})
	}
}

func TestRenderOverriderOrderWithinRule(t *testing.T) {
	v := func(s string) policyv1alpha1.PlaintextOverrider {
		return policyv1alpha1.PlaintextOverrider{Path: "/metadata/annotations/last", Operator: "add", Value: rawJSON(t, s)}
	}
	o := policyv1alpha1.Overriders{
		Plaintext:            []policyv1alpha1.PlaintextOverrider{v("plaintext")},
		FieldOverrider:       []policyv1alpha1.FieldOverrider{{FieldPath: "/metadata/annotations/doc", JSON: []policyv1alpha1.JSONPatchOperation{{SubPath: "/a", Operator: "replace", Value: rawJSON(t, 2)}}}},
		AnnotationsOverrider: []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"doc": `{"a":1}`, "last": "annotations"}}},
		LabelsOverrider:      []policyv1alpha1.LabelAnnotationOverrider{{Operator: "add", Value: map[string]string{"l": "1"}}},
		ArgsOverrider:        []policyv1alpha1.CommandArgsOverrider{{ContainerName: "c0", Operator: "add", Value: []string{"--v"}}},
		CommandOverrider:     []policyv1alpha1.CommandArgsOverrider{{ContainerName: "c0", Operator: "add", Value: []string{"run"}}},
		ImageOverrider:       []policyv1alpha1.ImageOverrider{{Component: "Tag", Operator: "replace", Value: "1.20"}},
	}
	res, err := Render(workload("Deployment", "nginx"), member(), Policies{ClusterOverridePolicies: []*policyv1alpha1.ClusterOverridePolicy{cop("p", rule(o))}})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, c := range res.Changes {
		kinds = append(kinds, c.Overrider)
	}
	want := []string{"imageOverrider", "commandOverrider", "argsOverrider", "labelsOverrider", "annotationsOverrider", "annotationsOverrider", "fieldOverrider", "plaintext"}
	if !reflect.DeepEqual(kinds, want) {
		t.Errorf("order %v, want %v", kinds, want)
	}
	for path, want := range map[string]any{
		"/spec/template/spec/containers/0/image": "nginx:1.20",
		"/metadata/annotations/doc":              `{"a":2}`,
		"/metadata/annotations/last":             "plaintext",
	} {
		if got := get(t, res.Object, path); got != want {
			t.Errorf("%s = %v, want %v", path, got, want)
		}
	}
}

func TestRenderDeprecatedForm(t *testing.T) {
	deprecated := func(name string, target *policyv1alpha1.ClusterAffinity) *policyv1alpha1.OverridePolicy {
		p := op("default", name)
		//lint:ignore SA1019 the deprecated form is what this test renders
		p.Spec.TargetCluster, p.Spec.Overriders = target, addLabel("tier", name)
		return p
	}
	res, err := Render(workload("Deployment", "nginx"), member(), Policies{OverridePolicies: []*policyv1alpha1.OverridePolicy{
		deprecated("a", nil),
		deprecated("b", &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}}),
		deprecated("c", &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member2"}}),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Object.GetLabels()["tier"]; got != "b" {
		t.Errorf("tier = %q, want b", got)
	}
	if len(res.Changes) != 2 || res.Changes[0].Rule != DeprecatedRule {
		t.Errorf("changes = %+v, want two from the deprecated rule", res.Changes)
	}
	if names := shadowNames(res.Applied.Overrides); !reflect.DeepEqual(names, []string{"a", "b"}) {
		t.Errorf("applied %v, want [a b]", names)
	}

	mixed := deprecated("d", nil)
	mixed.Spec.OverrideRules = []policyv1alpha1.RuleWithCluster{rule(addLabel("x", "y"))}
	_, err = Render(workload("Deployment", "nginx"), member(), Policies{OverridePolicies: []*policyv1alpha1.OverridePolicy{mixed}})
	wantErr(t, err, "OverridePolicy default/d: spec.overrideRules: overrideRules cannot be combined")
}

func shadowNames(shadows []policyv1alpha1.OverridePolicyShadow) []string {
	var names []string
	for _, s := range shadows {
		names = append(names, s.PolicyName)
	}
	return names
}

func TestRenderAppliedRecord(t *testing.T) {
	named := cop("a", rule(addLabel("k", "a")))
	named.Spec.ResourceSelectors = []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Name: "web"}}
	res, err := Render(workload("Deployment", "nginx"), member(), Policies{
		ClusterOverridePolicies: []*policyv1alpha1.ClusterOverridePolicy{named, cop("b", rule(addLabel("k", "b")), onCluster("nope", addLabel("k", "c")))},
		OverridePolicies:        []*policyv1alpha1.OverridePolicy{op("default", "empty", rule(policyv1alpha1.Overriders{}))},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Object.GetLabels()["k"]; got != "a" {
		t.Errorf("k = %q, want a (the name-selected policy applies last)", got)
	}
	annotations, err := res.Applied.Annotations()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		policyv1alpha1.AppliedClusterOverrides: `[{"policyName":"a","overriders":{"labelsOverrider":[{"operator":"add","value":{"k":"a"}}]}},` +
			`{"policyName":"b","overriders":{"labelsOverrider":[{"operator":"add","value":{"k":"b"}}]}}]`,
		policyv1alpha1.AppliedOverrides: `[{"policyName":"empty","overriders":{}}]`,
	}
	if !reflect.DeepEqual(annotations, want) {
		t.Errorf("annotations:\n got %v\nwant %v", annotations, want)
	}
	if got := res.Object.GetAnnotations(); !reflect.DeepEqual(got, want) {
		t.Errorf("the rendered object, as applied, carries annotations %v, want the record %v", got, want)
	}
	named.Spec.OverrideRules[0].Overriders.LabelsOverrider[0].Value["k"] = "mutated"
	if again, _ := res.Applied.Annotations(); !reflect.DeepEqual(again, want) {
		t.Error("the record shares memory with the policies")
	}
	if got, _ := (Applied{}).Annotations(); len(got) != 0 {
		t.Errorf("an empty record gives annotations %v", got)
	}
}

// The applied-overrides annotations replace those the manifest carried
// (its own record is stale once rendered here); other annotations stay, and
// a group with nothing applied leaves its key as it was, as in Karmada.
func TestRenderAnnotatesTheObjectAsApplied(t *testing.T) {
	m := workload("Deployment", "nginx")
	m.SetAnnotations(map[string]string{"keep": "me", policyv1alpha1.AppliedOverrides: "stale", policyv1alpha1.AppliedClusterOverrides: "untouched"})
	res, err := Render(m, member(), Policies{OverridePolicies: []*policyv1alpha1.OverridePolicy{op("default", "p", rule(addLabel("k", "v")))}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"keep": "me", policyv1alpha1.AppliedClusterOverrides: "untouched",
		policyv1alpha1.AppliedOverrides: `[{"policyName":"p","overriders":{"labelsOverrider":[{"operator":"add","value":{"k":"v"}}]}}]`}
	if got := res.Object.GetAnnotations(); !reflect.DeepEqual(got, want) {
		t.Errorf("annotations %v, want %v", got, want)
	}
	if got := m.GetAnnotations()[policyv1alpha1.AppliedOverrides]; got != "stale" {
		t.Errorf("the input manifest was modified: %q", got)
	}
	plain, err := Render(workload("Deployment", "nginx"), member(), Policies{})
	if err != nil {
		t.Fatal(err)
	}
	if got := plain.Object.GetAnnotations(); len(got) != 0 {
		t.Errorf("nothing applied, yet annotations %v", got)
	}
}

func TestRenderFailureIsAllOrNothing(t *testing.T) {
	p := op("default", "broken",
		rule(addLabel("first", "applied")),
		rule(policyv1alpha1.Overriders{
			ImageOverrider: []policyv1alpha1.ImageOverrider{
				{Component: "Registry", Operator: "replace", Value: "mirror.example.com"},
				{Component: "Tag", Operator: "replace", Value: "not a tag"},
			},
		}))
	manifest := workload("Deployment", "nginx")
	before := manifest.DeepCopy()
	res, err := Render(manifest, member(), Policies{
		ClusterOverridePolicies: []*policyv1alpha1.ClusterOverridePolicy{cop("fine", rule(addLabel("cop", "yes")))},
		OverridePolicies:        []*policyv1alpha1.OverridePolicy{p},
	})
	if res != nil || err == nil {
		t.Fatalf("Render = %v, %v; want an error", res, err)
	}
	if !reflect.DeepEqual(manifest, before) {
		t.Error("a failed render changed the manifest")
	}
	var pe *PolicyError
	if !errors.As(err, &pe) {
		t.Fatalf("%v is not a PolicyError", err)
	}
	want := PolicyError{Policy: PolicyRef{KindOverridePolicy, "default", "broken"}, Rule: 1, Overrider: "imageOverrider", Index: 1, Field: "value"}
	pe.Err = nil
	if !reflect.DeepEqual(*pe, want) {
		t.Errorf("PolicyError = %+v, want %+v", *pe, want)
	}
	for _, part := range []string{"render Deployment default/web", "OverridePolicy default/broken", "spec.overrideRules[1].overriders.imageOverrider[1].value", `tag "not a tag" does not parse`} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q lacks %q", err, part)
		}
	}
}

func TestRenderBadInputs(t *testing.T) {
	nonJSON := workload("Deployment", "nginx")
	nonJSON.Object["spec"].(map[string]any)["replicas"] = 3 // int, not int64
	badTarget := cop("t", policyv1alpha1.RuleWithCluster{TargetCluster: &policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{}, FieldSelector: &policyv1alpha1.FieldSelector{}}})
	badTarget.Spec.OverrideRules = append(badTarget.Spec.OverrideRules, policyv1alpha1.RuleWithCluster{TargetCluster: &policyv1alpha1.ClusterAffinity{
		FieldSelector: &policyv1alpha1.FieldSelector{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "zones", Operator: "In"}}}}})
	tests := []struct {
		name      string
		manifest  *unstructured.Unstructured
		nilMember bool
		policies  Policies
		err       string
	}{
		{name: "nil manifest", err: "no manifest"},
		{name: "nil cluster", manifest: workload("Pod", "nginx"), nilMember: true, err: "no Cluster"},
		{name: "non-JSON value", manifest: nonJSON, err: "not JSON"},
		{name: "bad targetCluster", manifest: workload("Pod", "nginx"), policies: Policies{ClusterOverridePolicies: []*policyv1alpha1.ClusterOverridePolicy{badTarget}},
			err: "ClusterOverridePolicy t: spec.overrideRules[1].targetCluster.fieldSelector.matchExpressions[0].key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := member()
			if tt.nilMember {
				c = nil
			}
			_, err := Render(tt.manifest, c, tt.policies)
			wantErr(t, err, tt.err)
		})
	}
}
