package diff

import (
	"errors"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/managedfields"

	"github.com/tether-io/tether/pkg/apply"
)

// noTypes has no schema for anything: Object compares whole objects.
type noTypes struct{}

func (noTypes) For(gv schema.GroupVersion) (managedfields.TypeConverter, error) {
	return nil, errors.New("no schema")
}

func secret(data map[string]any) *unstructured.Unstructured {
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "s", "namespace": "default", "resourceVersion": "7", "uid": "u"},
		"data":     data,
	}}
}

// TestSecretValuesMasked: a changed, an unchanged, an added and a removed
// key show with masks that say which changed, and no value shows.
func TestSecretValuesMasked(t *testing.T) {
	live := secret(map[string]any{"changed": "b2xk", "same": "c2FtZQ==", "gone": "Z29uZQ=="})
	result := secret(map[string]any{"changed": "bmV3", "same": "c2FtZQ==", "added": "YWRk"})
	out, err := Object(apply.DryRun{Subject: "Secret/default/s", Live: live, Result: result}, noTypes{}, "tether")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"b2xk", "bmV3", "c2FtZQ==", "Z29uZQ==", "YWRk"} {
		if strings.Contains(out, v) {
			t.Errorf("diff shows the value %q:\n%s", v, out)
		}
	}
	for _, want := range []string{"-  changed: '*** (before)'\n", "+  changed: '*** (after)'\n", "+  added: '***'\n",
		"-  gone: '***'\n", "   same: '***'\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "resourceVersion") || strings.Contains(out, "uid") {
		t.Errorf("diff shows fields every write changes:\n%s", out)
	}
}

// TestUnchangedIsEmpty: equal objects, but for what every write changes,
// give no diff.
func TestUnchangedIsEmpty(t *testing.T) {
	live := secret(map[string]any{"k": "dg=="})
	result := live.DeepCopy()
	result.SetResourceVersion("8")
	out, err := Object(apply.DryRun{Subject: "Secret/default/s", Live: live, Result: result}, noTypes{}, "tether")
	if err != nil || out != "" {
		t.Errorf("diff of an unchanged object: %q, %v; want none", out, err)
	}
}

// TestCreatedIsAllAdded: an object that does not exist is all added.
func TestCreatedIsAllAdded(t *testing.T) {
	out, err := Created("Secret/default/s", secret(map[string]any{"k": "dg=="}))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "--- live/Secret/default/s\n+++ tether/Secret/default/s\n@@ -0,0 +1,") || strings.Contains(out, "dg==") {
		t.Errorf("diff of a new Secret:\n%s", out)
	}
	for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n")[3:] {
		if !strings.HasPrefix(l, "+") {
			t.Errorf("line %q of a new object's diff is not an addition", l)
		}
	}
}
