package override

import (
	"fmt"
	"slices"
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// Container fields edited by commandOverrider and argsOverrider.
const (
	commandField = "command"
	argsField    = "args"
)

// applyCommandArgs applies one commandOverrider (field "command") or
// argsOverrider (field "args") to every container (not init container) named
// containerName, for the kinds that have a default pod spec: add appends the
// values, creating the list if absent; remove deletes every element equal to
// one of the values. Other kinds are left alone.
//
// Karmada writes an empty list when it adds nothing to, or removes from, an
// absent list; here the list is then left absent (the same container).
func applyCommandArgs(obj *unstructured.Unstructured, field string, o *policyv1alpha1.CommandArgsOverrider) ([]edit, error) {
	if o.ContainerName == "" {
		return nil, errField("containerName", "a container name is required")
	}
	if o.Operator != policyv1alpha1.OverriderOpAdd && o.Operator != policyv1alpha1.OverriderOpRemove {
		return nil, errField("operator", "unknown operator %q: use add or remove", o.Operator)
	}
	prefix, containers, err := containersOf(obj.Object, obj.GetKind())
	if err != nil {
		return nil, err
	}
	var edits []edit
	for i, c := range containers {
		if c["name"] != o.ContainerName {
			continue
		}
		path := joinPointer(append(prefix[:len(prefix):len(prefix)], strconv.Itoa(i), field)...)
		current, err := stringList(c[field])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		next := current
		if o.Operator == policyv1alpha1.OverriderOpAdd {
			next = append(slices.Clip(current), o.Value...)
		} else {
			next = slices.DeleteFunc(slices.Clone(current), func(s string) bool { return slices.Contains(o.Value, s) })
		}
		if slices.Equal(next, current) {
			continue
		}
		op := "replace"
		if c[field] == nil {
			op = "add"
		}
		c[field] = toAnyList(next)
		edits = append(edits, edit{op: op, path: path})
	}
	return edits, nil
}

// stringList converts a decoded JSON list of strings; nil is the empty list.
func stringList(v any) ([]string, error) {
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("is a %s, not an array", jsonType(v))
	}
	out := make([]string, len(list))
	for i, e := range list {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("element %d is a %s, not a string", i, jsonType(e))
		}
		out[i] = s
	}
	return out, nil
}

// toAnyList converts strings to a decoded JSON list.
func toAnyList(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
