package smoke

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

var (
	worksGVR    = workv1alpha1.SchemeGroupVersion.WithResource("works")
	opGVR       = policyv1alpha1.SchemeGroupVersion.WithResource("overridepolicies")
	copGVR      = policyv1alpha1.SchemeGroupVersion.WithResource("clusteroverridepolicies")
	clustersGVR = clusterv1alpha1.SchemeGroupVersion.WithResource("clusters")
)

// TestKarmadaShapesRoundTrip writes Work, OverridePolicy,
// ClusterOverridePolicy and Cluster objects in Karmada's YAML shape to the hub
// and reads them back: every field written must come back unchanged (the
// apiserver prunes what the schema does not know). The same files must also
// decode strictly into Tether's Go types and encode back without loss.
func TestKarmadaShapesRoundTrip(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	dyn := dynamic.NewForConfigOrDie(env.Hub.Config)
	cs := kubernetes.NewForConfigOrDie(env.Hub.Config)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "karmada-es-member1"}}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		file, statusFile string
		gvr              schema.GroupVersionResource
		typed            any
	}{
		{"work.yaml", "work-status.yaml", worksGVR, &workv1alpha1.Work{}},
		{"overridepolicy.yaml", "", opGVR, &policyv1alpha1.OverridePolicy{}},
		{"clusteroverridepolicy-deprecated.yaml", "", copGVR, &policyv1alpha1.ClusterOverridePolicy{}},
		{"cluster.yaml", "cluster-status.yaml", clustersGVR, &clusterv1alpha1.Cluster{}},
	}
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			want := readYAML(t, tc.file)
			client := resourceClient(dyn, tc.gvr, want)
			got, err := client.Create(ctx, want.DeepCopy(), metav1.CreateOptions{FieldValidation: "Strict"})
			if err != nil {
				t.Fatalf("create: %v", err)
			}
			if tc.statusFile != "" {
				status := readYAML(t, tc.statusFile)
				want.Object["status"] = status.Object["status"]
				got.Object["status"] = status.Object["status"]
				if _, err = client.UpdateStatus(ctx, got, metav1.UpdateOptions{FieldValidation: "Strict"}); err != nil {
					t.Fatalf("update status: %v", err)
				}
			}
			got, err = client.Get(ctx, want.GetName(), metav1.GetOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, field := range []string{"spec", "status"} {
				if w, ok := want.Object[field]; ok {
					assertSubset(t, field, w, got.Object[field])
				}
			}
			if labels, ok := want.Object["metadata"].(map[string]any)["labels"]; ok {
				assertSubset(t, "metadata.labels", labels, got.GetLabels())
			}

			// Strict decode into the Go type, encode, and compare with the input.
			// Go's omitempty drops zero values (Karmada's types do the same).
			raw, _ := json.Marshal(want.Object)
			if err := yaml.UnmarshalStrict(raw, tc.typed); err != nil {
				t.Fatalf("strict decode into %T: %v", tc.typed, err)
			}
			back, _ := json.Marshal(tc.typed)
			var backMap map[string]any
			_ = json.Unmarshal(back, &backMap)
			for _, field := range []string{"spec", "status"} {
				if w, ok := want.Object[field]; ok {
					assertSubset(t, "typed "+field, withoutZeros(w), backMap[field])
				}
			}
		})
	}
}

func resourceClient(dyn dynamic.Interface, gvr schema.GroupVersionResource, obj *unstructured.Unstructured) dynamic.ResourceInterface {
	if ns := obj.GetNamespace(); ns != "" {
		return dyn.Resource(gvr).Namespace(ns)
	}
	return dyn.Resource(gvr)
}

func readYAML(t *testing.T, name string) *unstructured.Unstructured {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	obj := map[string]any{}
	if err := yaml.Unmarshal(raw, &obj); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return &unstructured.Unstructured{Object: obj}
}

// assertSubset fails when a value in want is missing from got or differs.
// Numbers are compared by value (YAML and JSON decode them differently).
func assertSubset(t *testing.T, path string, want, got any) {
	t.Helper()
	switch w := want.(type) {
	case map[string]any:
		g, ok := asMap(got)
		if !ok {
			t.Errorf("%s: want an object, got %#v", path, got)
			return
		}
		for k, v := range w {
			gv, present := g[k]
			if !present {
				t.Errorf("%s.%s: lost (want %v)", path, k, v)
				continue
			}
			assertSubset(t, path+"."+k, v, gv)
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			t.Errorf("%s: want %d items, got %#v", path, len(w), got)
			return
		}
		for i := range w {
			assertSubset(t, fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
		}
	default:
		if !reflect.DeepEqual(normalize(want), normalize(got)) {
			t.Errorf("%s: want %#v, got %#v", path, want, got)
		}
	}
}

// withoutZeros drops false, 0 and "" map values, which omitempty leaves out.
func withoutZeros(v any) any {
	switch m := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range m {
			if x == false || x == "" || normalize(x) == float64(0) && k != "grade" && k != "count" && k != "ordinal" {
				continue
			}
			out[k] = withoutZeros(x)
		}
		return out
	case []any:
		out := make([]any, len(m))
		for i := range m {
			out[i] = withoutZeros(m[i])
		}
		return out
	}
	return v
}

func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[string]string:
		out := make(map[string]any, len(m))
		for k, s := range m {
			out[k] = s
		}
		return out, true
	}
	return nil, false
}

func normalize(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int32:
		return float64(n)
	case int64:
		return float64(n)
	case json.Number:
		f, _ := n.Float64()
		return f
	}
	return v
}
