package override

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// TestGolden renders every testdata/golden/NAME.in.yaml (a Cluster, policies
// and manifests, read as tether-agent render reads them) and compares with
// NAME.out.yaml: each rendered manifest exactly as the agent applies it and
// tether-agent render prints it (applied-overrides annotations included),
// or "# error:" lines.
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
	cluster, in := readGoldenInput(t, path)
	var out bytes.Buffer
	for i, m := range in.Manifests {
		if i > 0 {
			out.WriteString("---\n")
		}
		res, err := Render(m, cluster, in.Policies)
		if err != nil {
			out.WriteString("# " + m.GetKind() + " " + objectKey(m) + "\n# error: " + err.Error() + "\n")
			continue
		}
		raw, err := yaml.Marshal(res.Object.Object)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(raw)
	}
	return out.Bytes()
}

// readGoldenInput reads a golden input with the reader of tether-agent
// render; it must hold exactly one Cluster.
func readGoldenInput(t *testing.T, path string) (*clusterv1alpha1.Cluster, *Input) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	in := &Input{}
	if err := in.Read(f, path); err != nil {
		t.Fatal(err)
	}
	if len(in.Clusters) != 1 {
		t.Fatalf("%s: %d Clusters, want one", path, len(in.Clusters))
	}
	return in.Clusters[0], in
}
