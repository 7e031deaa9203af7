package override

import (
	"errors"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// Policies are the override policies in effect for a member cluster.
// OverridePolicies of namespaces other than the manifest's are ignored, so
// a caller may pass every policy it holds. Render only reads them.
type Policies struct {
	ClusterOverridePolicies []*policyv1alpha1.ClusterOverridePolicy
	OverridePolicies        []*policyv1alpha1.OverridePolicy
}

// Result is a rendered manifest and what was applied to it.
type Result struct {
	// Object is the rendered deep copy of the manifest, exactly as it is
	// applied: the overrides and the applied-overrides annotations that
	// record them (see Applied.Annotations).
	Object *unstructured.Unstructured
	// Applied is the applied-overrides record, in Karmada's shape.
	Applied Applied
	// Changes lists every edit, in the order it was made.
	Changes []Change
}

// Change is one edit an overrider made to the manifest.
type Change struct {
	Policy PolicyRef
	// Rule is the index in spec.overrideRules, or DeprecatedRule.
	Rule int
	// Overrider is the overrider list, e.g. "imageOverrider", and Index the
	// entry in it.
	Overrider string
	Index     int
	// Op is add, remove or replace.
	Op string
	// Path is the JSON pointer of the edited field of the manifest.
	Path string
	// SubPath is, for a fieldOverrider, the pointer inside the document
	// embedded in the string at Path.
	SubPath string
}

// edit is a Change as an overrider reports it.
type edit struct {
	index         int
	op            string
	path, subPath string
}

// Render applies the policies to a deep copy of manifest for cluster, with
// Karmada's selection, ordering and overrider semantics: first the
// ClusterOverridePolicies, then, for a namespaced manifest, the
// OverridePolicies of its namespace; within each group the matching
// policies by implicit priority then name; within a policy its rules in
// order, each if its targetCluster selects the cluster; within a rule
// image, command, args, labels, annotations, field and plaintext
// overriders. Last, the applied-overrides annotations record on the copy
// what was applied (Applied.Annotations), as Karmada records them on the
// manifest it writes into a Work; the result is the object as applied.
//
// manifest is never modified. On error nothing is returned but the error,
// which wraps a *PolicyError when a policy is at fault.
func Render(manifest *unstructured.Unstructured, cluster *clusterv1alpha1.Cluster, policies Policies) (*Result, error) {
	if manifest == nil || manifest.Object == nil {
		return nil, errors.New("render: no manifest")
	}
	subject := fmt.Sprintf("render %s %s", manifest.GetKind(), objectKey(manifest))
	if cluster == nil {
		return nil, fmt.Errorf("%s: no Cluster", subject)
	}
	obj, err := copyManifest(manifest)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", subject, err)
	}
	res := &Result{Object: obj}
	clusterWide := make([]candidate, 0, len(policies.ClusterOverridePolicies))
	for _, p := range policies.ClusterOverridePolicies {
		if p != nil {
			clusterWide = append(clusterWide, candidate{ref: PolicyRef{KindClusterOverridePolicy, "", p.Name}, spec: &p.Spec})
		}
	}
	if res.Applied.ClusterOverrides, err = renderGroup(obj, cluster, orderPolicies(manifest, clusterWide), &res.Changes); err != nil {
		return nil, fmt.Errorf("%s: %w", subject, err)
	}
	if ns := manifest.GetNamespace(); ns != "" {
		var namespaced []candidate
		for _, p := range policies.OverridePolicies {
			if p != nil && p.Namespace == ns {
				namespaced = append(namespaced, candidate{ref: PolicyRef{KindOverridePolicy, ns, p.Name}, spec: &p.Spec, selectorNamespace: ns})
			}
		}
		if res.Applied.Overrides, err = renderGroup(obj, cluster, orderPolicies(manifest, namespaced), &res.Changes); err != nil {
			return nil, fmt.Errorf("%s: %w", subject, err)
		}
	}
	sortShadows(res.Applied.ClusterOverrides)
	sortShadows(res.Applied.Overrides)
	if err := annotate(obj, res.Applied); err != nil {
		return nil, fmt.Errorf("%s: %w", subject, err)
	}
	return res, nil
}

// renderGroup applies ordered policies of one group and returns the record.
func renderGroup(obj *unstructured.Unstructured, cluster *clusterv1alpha1.Cluster, policies []candidate, changes *[]Change) ([]policyv1alpha1.OverridePolicyShadow, error) {
	var shadows []policyv1alpha1.OverridePolicyShadow
	for _, p := range policies {
		rules, first, err := rulesOf(p.spec)
		if err != nil {
			return nil, &PolicyError{Policy: p.ref, Rule: DeprecatedRule, Field: "overrideRules", Err: err}
		}
		for i := range rules {
			base := Change{Policy: p.ref, Rule: first + i}
			matched, err := clusterMatches(cluster, rules[i].TargetCluster)
			if err != nil {
				return nil, policyError(base, "", err)
			}
			if !matched {
				continue
			}
			if err := applyRule(obj, &rules[i].Overriders, base, changes); err != nil {
				return nil, err
			}
			shadows = append(shadows, policyv1alpha1.OverridePolicyShadow{PolicyName: p.ref.Name, Overriders: *rules[i].Overriders.DeepCopy()})
		}
	}
	return shadows, nil
}

// rulesOf returns a policy's rules and the index of the first: overrideRules
// from 0, or the deprecated targetCluster + overriders as one rule numbered
// DeprecatedRule. Mixing both forms is an error, as in Karmada's webhook.
func rulesOf(spec *policyv1alpha1.OverrideSpec) ([]policyv1alpha1.RuleWithCluster, int, error) {
	//lint:ignore SA1019 the deprecated form is still served by Karmada and honoured here
	deprecated := policyv1alpha1.RuleWithCluster{TargetCluster: spec.TargetCluster, Overriders: spec.Overriders}
	if len(spec.OverrideRules) == 0 {
		return []policyv1alpha1.RuleWithCluster{deprecated}, DeprecatedRule, nil
	}
	if deprecated.TargetCluster != nil || !isEmpty(&deprecated.Overriders) {
		return nil, 0, errors.New("overrideRules cannot be combined with the deprecated targetCluster or overriders")
	}
	return spec.OverrideRules, 0, nil
}

// isEmpty tells whether overriders holds no overrider at all.
func isEmpty(o *policyv1alpha1.Overriders) bool {
	return len(o.Plaintext)+len(o.ImageOverrider)+len(o.CommandOverrider)+len(o.ArgsOverrider)+
		len(o.LabelsOverrider)+len(o.AnnotationsOverrider)+len(o.FieldOverrider) == 0
}

// applyRule applies one rule's overriders in Karmada's order and appends
// the edits to changes.
func applyRule(obj *unstructured.Unstructured, o *policyv1alpha1.Overriders, base Change, changes *[]Change) error {
	steps := []struct {
		overrider string
		apply     func() ([]edit, error)
	}{
		{"imageOverrider", func() ([]edit, error) { return each(obj, o.ImageOverrider, applyImage) }},
		{"commandOverrider", func() ([]edit, error) { return each(obj, o.CommandOverrider, bind(applyCommandArgs, commandField)) }},
		{"argsOverrider", func() ([]edit, error) { return each(obj, o.ArgsOverrider, bind(applyCommandArgs, argsField)) }},
		{"labelsOverrider", func() ([]edit, error) { return each(obj, o.LabelsOverrider, bind(applyLabelAnnotation, labelsField)) }},
		{"annotationsOverrider", func() ([]edit, error) {
			return each(obj, o.AnnotationsOverrider, bind(applyLabelAnnotation, annotationsField))
		}},
		{"fieldOverrider", func() ([]edit, error) { return each(obj, o.FieldOverrider, applyField) }},
		{"plaintext", func() ([]edit, error) { return applyPlaintext(obj, o.Plaintext) }},
	}
	for _, step := range steps {
		edits, err := step.apply()
		if err != nil {
			return policyError(base, step.overrider, err)
		}
		for _, e := range edits {
			c := base
			c.Overrider, c.Index, c.Op, c.Path, c.SubPath = step.overrider, e.index, e.op, e.path, e.subPath
			*changes = append(*changes, c)
		}
	}
	return nil
}

// each applies fn to every entry of an overrider list, in order, numbering
// the edits and errors with the entry's index.
func each[T any](obj *unstructured.Unstructured, entries []T, fn func(*unstructured.Unstructured, *T) ([]edit, error)) ([]edit, error) {
	var all []edit
	for i := range entries {
		edits, err := fn(obj, &entries[i])
		if err != nil {
			return nil, atEntry(i, err)
		}
		for _, e := range edits {
			e.index = i
			all = append(all, e)
		}
	}
	return all, nil
}

// bind fixes the field argument of an overrider that serves two lists.
func bind[T any](fn func(*unstructured.Unstructured, string, *T) ([]edit, error), field string) func(*unstructured.Unstructured, *T) ([]edit, error) {
	return func(obj *unstructured.Unstructured, o *T) ([]edit, error) { return fn(obj, field, o) }
}

// policyError builds the PolicyError for a fault met while applying the
// rule base names, in the given overrider list ("" for the rule itself).
func policyError(base Change, overrider string, err error) error {
	pe := &PolicyError{Policy: base.Policy, Rule: base.Rule, Overrider: overrider, Err: err}
	var ee *entryError
	var fe *fieldError
	switch {
	case errors.As(err, &ee):
		pe.Index, pe.Field, pe.Err = ee.index, ee.field, ee.err
	case errors.As(err, &fe):
		pe.Field, pe.Err = fe.field, fe.err
	}
	return pe
}

// copyManifest deep-copies a manifest, turning the panic that a value of a
// non-JSON type causes into an error.
func copyManifest(u *unstructured.Unstructured) (obj *unstructured.Unstructured, err error) {
	defer func() {
		if r := recover(); r != nil {
			obj, err = nil, fmt.Errorf("the manifest holds a value that is not JSON: %v", r)
		}
	}()
	return u.DeepCopy(), nil
}

// objectKey returns namespace/name, or name for a cluster-scoped object.
func objectKey(u *unstructured.Unstructured) string {
	if ns := u.GetNamespace(); ns != "" {
		return ns + "/" + u.GetName()
	}
	return u.GetName()
}
