package override

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// Input is what YAML or JSON documents hold for an offline render: the
// member's Cluster objects, the override policies and the manifests to
// render, in the order read. `tether-agent render` and the golden tests
// read their input with it.
type Input struct {
	Clusters  []*clusterv1alpha1.Cluster
	Policies  Policies
	Manifests []*unstructured.Unstructured
}

// Read decodes every document of r, a stream of YAML or JSON documents
// (name stands for r in errors), and adds its objects to in: Clusters and
// policies of Karmada's API groups by kind, anything else as a manifest; a
// List contributes its items. Policies and Clusters are converted strictly,
// so a misspelt field is an error. Errors name the document and never
// quote its content.
func (in *Input) Read(r io.Reader, name string) error {
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		u, err := decodeDocument(raw)
		if err == nil {
			err = in.add(u)
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
	}
}

// decodeDocument decodes one document into an object that has an
// apiVersion and a kind. Unlike unstructured's decoder, its errors never
// quote the document.
func decodeDocument(raw []byte) (*unstructured.Unstructured, error) {
	var v any
	if err := utiljson.Unmarshal(raw, &v); err != nil {
		return nil, errors.New("is not valid JSON or YAML")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("is not an object: give a Kubernetes object with apiVersion and kind")
	}
	u := &unstructured.Unstructured{Object: obj}
	if s, ok := obj["apiVersion"].(string); !ok || s == "" {
		return nil, errors.New(`has no apiVersion (a string such as "v1" or "apps/v1")`)
	}
	if s, ok := obj["kind"].(string); !ok || s == "" {
		return nil, errors.New(`has no kind (a string such as "Deployment")`)
	}
	return u, nil
}

// add sorts one object into the Clusters, the policies or the manifests;
// a List contributes its items.
func (in *Input) add(u *unstructured.Unstructured) error {
	if u.IsList() {
		list, err := u.ToList()
		if err != nil {
			return fmt.Errorf("%s: its items are not objects", u.GetKind())
		}
		for i := range list.Items {
			if err := in.add(&list.Items[i]); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		return nil
	}
	gvk := u.GroupVersionKind()
	switch {
	case gvk.GroupVersion() == clusterv1alpha1.SchemeGroupVersion && gvk.Kind == "Cluster":
		c := &clusterv1alpha1.Cluster{}
		in.Clusters = append(in.Clusters, c)
		return fromUnstructured(u, c)
	case gvk.GroupVersion() == policyv1alpha1.SchemeGroupVersion && gvk.Kind == KindClusterOverridePolicy:
		p := &policyv1alpha1.ClusterOverridePolicy{}
		in.Policies.ClusterOverridePolicies = append(in.Policies.ClusterOverridePolicies, p)
		return fromUnstructured(u, p)
	case gvk.GroupVersion() == policyv1alpha1.SchemeGroupVersion && gvk.Kind == KindOverridePolicy:
		if u.GetNamespace() == "" {
			return fmt.Errorf("OverridePolicy %s has no metadata.namespace", u.GetName())
		}
		p := &policyv1alpha1.OverridePolicy{}
		in.Policies.OverridePolicies = append(in.Policies.OverridePolicies, p)
		return fromUnstructured(u, p)
	default:
		in.Manifests = append(in.Manifests, u)
		return nil
	}
}

// fromUnstructured converts strictly: an unknown field (a misspelt
// overrider, say) is an error rather than silently ignored.
func fromUnstructured(u *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
}
