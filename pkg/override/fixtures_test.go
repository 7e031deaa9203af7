package override

import (
	"encoding/json"
	"strings"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// workload builds a manifest of kind with one container per image (named
// c0, c1, ...) and an init container "init" running busybox:1.36.
func workload(kind string, images ...string) *unstructured.Unstructured {
	containers := make([]any, len(images))
	for i, img := range images {
		containers[i] = map[string]any{"name": "c" + string(rune('0'+i)), "image": img}
	}
	podSpec := map[string]any{
		"containers":     containers,
		"initContainers": []any{map[string]any{"name": "init", "image": "busybox:1.36"}},
	}
	apiVersion := map[string]string{"Pod": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}[kind]
	if apiVersion == "" {
		apiVersion = "apps/v1"
	}
	obj := map[string]any{
		"apiVersion": apiVersion,
		"kind":       kind,
		"metadata":   map[string]any{"name": "web", "namespace": "default", "labels": map[string]any{"app": "web"}},
	}
	switch kind {
	case "Pod":
		obj["spec"] = podSpec
	case "CronJob":
		obj["spec"] = map[string]any{"jobTemplate": map[string]any{"spec": map[string]any{"template": map[string]any{"spec": podSpec}}}}
	default:
		obj["spec"] = map[string]any{"template": map[string]any{"spec": podSpec}}
	}
	return &unstructured.Unstructured{Object: obj}
}

// fromYAML decodes a YAML manifest.
func fromYAML(t testing.TB, s string) *unstructured.Unstructured {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(strings.TrimSpace(s)))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(raw); err != nil {
		t.Fatal(err)
	}
	return u
}

// get returns the value at a JSON pointer, failing the test if it is absent.
func get(t testing.TB, u *unstructured.Unstructured, path string) any {
	t.Helper()
	p, err := parsePointer(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.get(u.Object)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// rawJSON returns v as an apiextensions JSON value.
func rawJSON(t testing.TB, v any) apiextensionsv1.JSON {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return apiextensionsv1.JSON{Raw: raw}
}

// member is the cluster most tests render for.
func member() *clusterv1alpha1.Cluster {
	c := &clusterv1alpha1.Cluster{}
	c.Name = "member1"
	c.Labels = map[string]string{"env": "prod"}
	c.Spec.Provider = "aws"
	c.Spec.Region = "eu-west-1"
	c.Spec.Zones = []string{"eu-west-1a", "eu-west-1b"}
	return c
}

// wantErr checks that err is nil when want is empty, else that it contains want.
func wantErr(t testing.TB, err error, want string) bool {
	t.Helper()
	switch {
	case want == "" && err != nil:
		t.Fatalf("unexpected error: %v", err)
	case want != "" && err == nil:
		t.Fatalf("want an error containing %q, got none", want)
	case want != "" && !strings.Contains(err.Error(), want):
		t.Fatalf("want an error containing %q, got %v", want, err)
	}
	return err != nil
}
