package override

import (
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// applyImage applies one imageOverrider. With a predicate only the image at
// predicate.path is edited; without one every container image (not init
// containers) of a Pod, ReplicaSet, Deployment, DaemonSet, StatefulSet or
// Job is, and other kinds are left alone.
func applyImage(obj *unstructured.Unstructured, o *policyv1alpha1.ImageOverrider) ([]edit, error) {
	if err := checkImageOverrider(o); err != nil {
		return nil, err
	}
	if o.Predicate != nil {
		path, err := parsePointer(o.Predicate.Path)
		if err != nil {
			return nil, &fieldError{field: "predicate.path", err: err}
		}
		return editImage(obj.Object, path, "predicate.path", o)
	}
	prefix, containers, err := containersOf(obj.Object, obj.GetKind())
	if err != nil {
		return nil, err
	}
	var edits []edit
	for i := range containers {
		path := pointer(append(prefix[:len(prefix):len(prefix)], strconv.Itoa(i), "image"))
		e, err := editImage(obj.Object, path, "", o)
		if err != nil {
			return nil, err
		}
		edits = append(edits, e...)
	}
	return edits, nil
}

// editImage overrides the image string at path; pathField is the policy
// field blamed when path does not lead to a string.
func editImage(obj map[string]any, path pointer, pathField string, o *policyv1alpha1.ImageOverrider) ([]edit, error) {
	current, err := path.getString(obj)
	if err != nil {
		return nil, &fieldError{field: pathField, err: err}
	}
	image, err := overrideImage(current, o)
	if err != nil {
		return nil, prefixed(joinPointer(path...), err)
	}
	if image == current {
		return nil, nil
	}
	if err := path.replace(obj, image); err != nil {
		return nil, err
	}
	return []edit{{op: "replace", path: joinPointer(path...)}}, nil
}

// checkImageOverrider rejects what Karmada's API rejects: an unknown
// component or operator, and add or replace without a value.
func checkImageOverrider(o *policyv1alpha1.ImageOverrider) error {
	switch o.Component {
	case policyv1alpha1.Registry, policyv1alpha1.Repository, policyv1alpha1.Tag:
	default:
		return errField("component", "unknown component %q: use Registry, Repository or Tag", o.Component)
	}
	switch o.Operator {
	case policyv1alpha1.OverriderOpAdd, policyv1alpha1.OverriderOpReplace:
		if o.Value == "" {
			return errField("value", "%s needs a value", o.Operator)
		}
	case policyv1alpha1.OverriderOpRemove:
	default:
		return errField("operator", "unknown operator %q: use add, remove or replace", o.Operator)
	}
	return nil
}

// overrideImage returns image with one component added to, replaced or
// removed, keeping the user's spelling of every other component. The result
// must itself be a valid reference.
func overrideImage(image string, o *policyv1alpha1.ImageOverrider) (string, error) {
	if err := checkImageOverrider(o); err != nil {
		return "", err
	}
	ref, err := parseImage(image)
	if err != nil {
		return "", err
	}
	switch o.Component {
	case policyv1alpha1.Registry:
		ref.registry = editComponent(ref.registry, o)
	case policyv1alpha1.Repository:
		ref.repository = editComponent(ref.repository, o)
	case policyv1alpha1.Tag:
		if o.Operator == policyv1alpha1.OverriderOpRemove {
			ref = removeTagOrDigest(ref)
			break
		}
		if ref, err = ref.withTagOrDigest(editComponent(ref.tagOrDigest(), o)); err != nil {
			return "", &fieldError{field: "value", err: err}
		}
	}
	result := ref.String()
	if _, err := parseImage(result); err != nil {
		field := "value"
		if o.Operator == policyv1alpha1.OverriderOpRemove {
			field = "operator"
		}
		return "", errField(field, "%s %s on %q gives %q, which is not an image reference", o.Operator, o.Component, image, result)
	}
	return result, nil
}

// editComponent applies the operator to one component: add appends the
// value (string concatenation, as Karmada does), replace substitutes it,
// remove clears the component.
func editComponent(current string, o *policyv1alpha1.ImageOverrider) string {
	switch o.Operator {
	case policyv1alpha1.OverriderOpAdd:
		return current + o.Value
	case policyv1alpha1.OverriderOpReplace:
		return o.Value
	default:
		return ""
	}
}

// removeTagOrDigest drops the tag if there is one, else the digest.
func removeTagOrDigest(ref imageRef) imageRef {
	if ref.tag != "" {
		ref.tag = ""
	} else {
		ref.digest = ""
	}
	return ref
}
