package override

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

// FuzzImage checks overrideImage on any image and overrider: it never
// panics, what it returns is a valid reference, and it edits only the
// component it was asked to.
func FuzzImage(f *testing.F) {
	for _, seed := range []struct{ image, component, op, value string }{
		{"nginx", "Tag", "replace", "1.20"},
		{"docker.io/library/nginx:1.0", "Registry", "replace", "mirror.example.com:5000"},
		{"registry.example.com:5000/team/app@" + digest, "Registry", "remove", ""},
		{"nginx:1.0@" + digest, "Tag", "remove", ""},
		{"localhost/app:v1", "Repository", "add", "-debug"},
		{"[::1]:5000/app", "Tag", "add", "x"},
		{"nginx:1.0", "Tag", "replace", digest},
		{"nginx", "Repository", "remove", ""},
	} {
		f.Add(seed.image, seed.component, seed.op, seed.value)
	}
	f.Fuzz(func(t *testing.T, image, component, operator, value string) {
		o := &policyv1alpha1.ImageOverrider{Component: policyv1alpha1.ImageComponent(component), Operator: policyv1alpha1.OverriderOperator(operator), Value: value}
		before, beforeErr := parseImage(image)
		if beforeErr == nil && before.String() != image {
			t.Fatalf("parseImage(%q).String() = %q", image, before.String())
		}
		got, err := overrideImage(image, o)
		if err != nil {
			return
		}
		if beforeErr != nil {
			t.Fatalf("overrideImage accepted %q, which does not parse", image)
		}
		after, err := parseImage(got)
		if err != nil {
			t.Fatalf("overrideImage(%q, %+v) = %q, which does not parse: %v", image, *o, got, err)
		}
		switch o.Component {
		case policyv1alpha1.Tag:
			if after.registry != before.registry || after.repository != before.repository {
				t.Fatalf("a Tag edit of %q changed the name: %q", image, got)
			}
		default:
			if after.tag != before.tag || after.digest != before.digest {
				t.Fatalf("a %s edit of %q changed the tag or digest: %q", o.Component, image, got)
			}
		}
	})
}

// FuzzRender renders any JSON manifest against any JSON override spec,
// used both as a ClusterOverridePolicy and as an OverridePolicy of the
// manifest's namespace: Render never panics, never changes its input, is
// deterministic, and returns either a JSON object or an error.
func FuzzRender(f *testing.F) {
	deployment, _ := json.Marshal(workload("Deployment", "nginx", "registry.example.com/sidecar:1.0").Object)
	configMap := []byte(`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"default"},"data":{"c.yaml":"a: {b: 1}\n","c.json":"[1]"}}`)
	for _, seed := range [][2]string{
		{string(deployment), `{"overrideRules":[{"overriders":{"imageOverrider":[{"component":"Tag","operator":"replace","value":"1.20"}]}}]}`},
		{string(deployment), `{"overrideRules":[{"overriders":{"commandOverrider":[{"containerName":"c0","operator":"add","value":["a"]}],"argsOverrider":[{"containerName":"c1","operator":"remove","value":["b"]}]}}]}`},
		{string(deployment), `{"resourceSelectors":[{"apiVersion":"apps/v1","kind":"Deployment","name":"web"}],"overrideRules":[{"targetCluster":{"fieldSelector":{"matchExpressions":[{"key":"zone","operator":"In","values":["eu-west-1a"]}]}},"overriders":{"labelsOverrider":[{"operator":"add","value":{"a/b":"c"}}],"annotationsOverrider":[{"operator":"remove","value":{"x":""}}]}}]}`},
		{string(deployment), `{"overriders":{"plaintext":[{"path":"/spec/replicas","operator":"add","value":3},{"path":"/metadata/labels/app","operator":"remove"}]}}`},
		{string(configMap), `{"overrideRules":[{"overriders":{"fieldOverrider":[{"fieldPath":"/data/c.yaml","yaml":[{"subPath":"/a/b","operator":"replace","value":2}]},{"fieldPath":"/data/c.json","json":[{"subPath":"/0","operator":"remove"}]}]}}]}`},
		{string(configMap), `{"overrideRules":[{"overriders":{"imageOverrider":[{"predicate":{"path":"/data/c.json"},"component":"Registry","operator":"add","value":"x.io"}]}}]}`},
	} {
		f.Add([]byte(seed[0]), []byte(seed[1]))
	}
	f.Fuzz(func(t *testing.T, manifestJSON, specJSON []byte) {
		manifest := &unstructured.Unstructured{}
		if err := manifest.UnmarshalJSON(manifestJSON); err != nil {
			return
		}
		var spec policyv1alpha1.OverrideSpec
		if err := json.Unmarshal(specJSON, &spec); err != nil {
			return
		}
		cp := &policyv1alpha1.ClusterOverridePolicy{Spec: spec}
		cp.Name = "fuzz"
		np := &policyv1alpha1.OverridePolicy{Spec: *spec.DeepCopy()}
		np.Name, np.Namespace = "fuzz", manifest.GetNamespace()
		policies := Policies{ClusterOverridePolicies: []*policyv1alpha1.ClusterOverridePolicy{cp}, OverridePolicies: []*policyv1alpha1.OverridePolicy{np}}

		before := manifest.DeepCopy()
		res, err := Render(manifest, member(), policies)
		if !reflect.DeepEqual(manifest, before) {
			t.Fatal("Render changed its input")
		}
		again, errAgain := Render(manifest, member(), policies)
		if (err == nil) != (errAgain == nil) || (err != nil && err.Error() != errAgain.Error()) {
			t.Fatalf("Render is not deterministic: %v / %v", err, errAgain)
		}
		if err != nil {
			if res != nil || err.Error() == "" {
				t.Fatalf("Render failed with a result or an empty error: %v", err)
			}
			return
		}
		if !reflect.DeepEqual(res.Object, again.Object) || !reflect.DeepEqual(res.Changes, again.Changes) {
			t.Fatal("Render is not deterministic")
		}
		if _, err := res.Object.MarshalJSON(); err != nil {
			t.Fatalf("the rendered manifest does not encode: %v", err)
		}
		if _, err := res.Applied.Annotations(); err != nil {
			t.Fatalf("the applied record does not encode: %v", err)
		}
	})
}
