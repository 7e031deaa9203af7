package diff

import (
	"fmt"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"
	"sigs.k8s.io/yaml"

	"github.com/tether-io/tether/pkg/apply"
)

// Types gives the member's type converter for a group version
// (apply.TypeCache).
type Types interface {
	For(gv schema.GroupVersion) (managedfields.TypeConverter, error)
}

// Object returns the unified diff of what applying d would change, over the
// fields manager would own after the apply or owns now (a field it gives
// up shows as removed); "" when nothing would change. A new object shows
// all added. When the member's schema cannot type the object, the whole
// objects are compared (without managedFields, resourceVersion,
// generation, timestamps and status).
func Object(d apply.DryRun, types Types, manager string) (string, error) {
	before, after, err := sides(d, types, manager)
	if err != nil {
		return "", fmt.Errorf("diff %s: %w", d.Subject, err)
	}
	if d.Live != nil && equality.Semantic.DeepEqual(before, after) {
		return "", nil
	}
	if isSecret(d.Result) {
		maskSecret(before, after)
	}
	return unified(d.Subject, before, after)
}

// sides are the live object and the dry-run result, restricted to the
// fields manager owns in either.
func sides(d apply.DryRun, types Types, manager string) (before, after map[string]any, err error) {
	set, err := ownedSet(d.Result, manager)
	if err != nil {
		return nil, nil, err
	}
	had, err := ownedSet(d.Live, manager)
	if err != nil {
		return nil, nil, err
	}
	if set != nil && had != nil {
		set = set.Union(had)
	} else if set == nil {
		set = had
	}
	gv, err := schema.ParseGroupVersion(d.Result.GetAPIVersion())
	if err != nil || set == nil {
		return whole(d.Live), whole(d.Result), nil
	}
	tc, err := types.For(gv)
	if err != nil {
		return whole(d.Live), whole(d.Result), nil
	}
	if before, err = restrict(tc, d.Live, set); err != nil {
		return whole(d.Live), whole(d.Result), nil
	}
	if after, err = restrict(tc, d.Result, set); err != nil {
		return whole(d.Live), whole(d.Result), nil
	}
	return before, after, nil
}

// whole is obj without the noise fields; nil for a nil obj.
func whole(obj *unstructured.Unstructured) map[string]any {
	if obj == nil {
		return nil
	}
	return stripped(obj.Object)
}

// unified renders before and after as YAML and diffs them, with three lines
// of context; before is empty for a new object.
func unified(subject string, before, after map[string]any) (string, error) {
	var a, b []byte
	var err error
	if before != nil {
		if a, err = yaml.Marshal(before); err != nil {
			return "", fmt.Errorf("encode live %s: %w", subject, err)
		}
	}
	if b, err = yaml.Marshal(after); err != nil {
		return "", fmt.Errorf("encode dry-run result of %s: %w", subject, err)
	}
	return difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
		A: lines(a), B: lines(b),
		FromFile: "live/" + subject, ToFile: "tether/" + subject, Context: 3,
	})
}

// Created returns the diff of an object the member cannot dry-run yet (its
// namespace is created by the same apply): the manifest as given, all added,
// without the fields the server sets.
func Created(subject string, obj *unstructured.Unstructured) (string, error) {
	after := whole(obj)
	if isSecret(obj) {
		maskSecret(nil, after)
	}
	return unified(subject, nil, after)
}

// lines splits YAML into lines, each with its newline; none for no YAML
// (difflib.SplitLines would make one empty line of it).
func lines(text []byte) []string {
	if len(text) == 0 {
		return nil
	}
	return difflib.SplitLines(strings.TrimSuffix(string(text), "\n"))
}
