package override

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden renders every testdata/golden/NAME.in.yaml (a Cluster, policies
// and manifests) and compares with NAME.out.yaml: each rendered manifest,
// preceded by its applied-overrides annotations as comments, or an
// "# error:" line.
func TestGolden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "golden", "*.in.yaml"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no golden inputs: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".in.yaml")
		t.Run(name, func(t *testing.T) {
			got := renderGolden(t, in)
			out := strings.TrimSuffix(in, ".in.yaml") + ".out.yaml"
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from the rendering; got:\n%s", out, got)
			}
		})
	}
}

func renderGolden(t *testing.T, path string) []byte {
	t.Helper()
	cluster, policies, manifests := readGoldenInput(t, path)
	var out bytes.Buffer
	for i, m := range manifests {
		if i > 0 {
			out.WriteString("---\n")
		}
		res, err := Render(m, cluster, policies)
		if err != nil {
			out.WriteString("# " + m.GetKind() + " " + objectKey(m) + "\n# error: " + err.Error() + "\n")
			continue
		}
		annotations, err := res.Applied.Annotations()
		if err != nil {
			t.Fatal(err)
		}
		keys := make([]string, 0, len(annotations))
		for k := range annotations {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out.WriteString("# " + k + ": " + annotations[k] + "\n")
		}
		raw, err := yaml.Marshal(res.Object.Object)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(raw)
	}
	return out.Bytes()
}

func readGoldenInput(t *testing.T, path string) (*clusterv1alpha1.Cluster, Policies, []*unstructured.Unstructured) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		cluster   *clusterv1alpha1.Cluster
		policies  Policies
		manifests []*unstructured.Unstructured
	)
	dec := utilyaml.NewYAMLOrJSONDecoder(f, 4096)
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if string(raw) == "null" {
			continue
		}
		doc := &unstructured.Unstructured{}
		if err := doc.UnmarshalJSON(raw); err != nil {
			t.Fatal(err)
		}
		var into any
		switch doc.GetKind() {
		case "Cluster":
			cluster = &clusterv1alpha1.Cluster{}
			into = cluster
		case "ClusterOverridePolicy":
			p := &policyv1alpha1.ClusterOverridePolicy{}
			policies.ClusterOverridePolicies, into = append(policies.ClusterOverridePolicies, p), p
		case "OverridePolicy":
			p := &policyv1alpha1.OverridePolicy{}
			policies.OverridePolicies, into = append(policies.OverridePolicies, p), p
		default:
			manifests = append(manifests, doc)
			continue
		}
		if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(doc.Object, into, true); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return cluster, policies, manifests
}
