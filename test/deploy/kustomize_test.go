package deploy

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"

	"github.com/tether-io/tether/test/testenv"
)

var update = flag.Bool("update", false, "rewrite the kustomize bases' generated files from the charts")

// base is a kustomize base and the chart rendering it holds.
type base struct {
	dir, chart string
	values     map[string]any
	files      map[string]func(*rendered) []*unstructured.Unstructured // generated file -> its objects
}

func bases() []base {
	objects := func(r *rendered) []*unstructured.Unstructured { return r.objects }
	return []base{
		{dir: "member", chart: agentChart, values: map[string]any{"clusterName": "member", "mode": "existingSecret"},
			files: map[string]func(*rendered) []*unstructured.Unstructured{"tether-agent.yaml": objects}},
		{dir: "hub", chart: hubChart, files: map[string]func(*rendered) []*unstructured.Unstructured{
			"tether-hub.yaml": objects, "crds.yaml": func(r *rendered) []*unstructured.Unstructured { return r.crds }}},
	}
}

func kustomizeDir(name string) string {
	return filepath.Join(testenv.RepoRoot(), "deploy", "kustomize", name)
}

// generated is a chart's objects as a kustomize base holds them: labelled
// as managed by kustomize, without Helm's chart label.
func generated(objs []*unstructured.Unstructured) ([]byte, error) {
	var b strings.Builder
	b.WriteString("# Generated from the Helm chart by 'go test ./test/deploy -run TestKustomizeBases -update'. Do not edit.\n")
	for _, o := range objs {
		o = o.DeepCopy()
		if labels := o.GetLabels(); labels != nil {
			delete(labels, "helm.sh/chart")
			if _, ok := labels["app.kubernetes.io/managed-by"]; ok {
				labels["app.kubernetes.io/managed-by"] = "kustomize"
			}
			o.SetLabels(labels)
		}
		raw, err := yaml.Marshal(o.Object)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(raw)
	}
	return []byte(b.String()), nil
}

// kustomizeBuild builds a kustomization directory.
func kustomizeBuild(dir string) ([]*unstructured.Unstructured, error) {
	m, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	raw, err := m.AsYaml()
	if err != nil {
		return nil, err
	}
	return decodeYAML(string(raw))
}

// TestKustomizeBases: each base's generated files are its chart's rendering
// (so the two cannot drift), the base builds with kustomize, and the result
// applies with dry run: the member base to the member, the hub base to the
// hub. The member overlay of the README builds and names the cluster.
func TestKustomizeBases(t *testing.T) {
	for _, b := range bases() {
		t.Run(b.dir, func(t *testing.T) {
			r, err := render(b.chart, b.values)
			if err != nil {
				t.Fatal(err)
			}
			for file, objs := range b.files {
				want, err := generated(objs(r))
				if err != nil {
					t.Fatal(err)
				}
				path := filepath.Join(kustomizeDir(b.dir), file)
				if *update {
					if err := os.WriteFile(path, want, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if got, err := os.ReadFile(path); err != nil || string(got) != string(want) {
					t.Errorf("%s is not the %s chart's rendering (%v): run 'go test ./test/deploy -run TestKustomizeBases -update'", path, b.chart, err)
				}
			}
			built, err := kustomizeBuild(kustomizeDir(b.dir))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(r.objects) + len(r.crds) + 1; len(built) != n {
				t.Errorf("kustomize build gives %d objects, want the chart's %d and the namespace: %s", len(built), n, refs(built))
			}
			env := testenv.Require(t)
			cfg := env.Members[0].Config
			if b.dir == "hub" {
				cfg = env.Hub.Config
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			ensureNamespace(t, cfg, namespace)
			if err := newApplier(t, cfg).apply(ctx, built, true); err != nil {
				t.Fatalf("dry-run apply: %v", err)
			}
		})
	}
}

// memberOverlay is the README's overlay of the member base.
const memberOverlay = `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - %s
secretGenerator:
  - name: karmada-kubeconfig
    namespace: karmada-system
    files:
      - karmada-kubeconfig=hub.kubeconfig
    options:
      disableNameSuffixHash: true
patches:
  - target: {kind: Deployment, name: karmada-agent}
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/command/3
        value: --cluster-name=edge-1
`

// TestKustomizeMemberOverlay: the README's overlay builds, names the
// cluster where the base has its placeholder and adds the Secret.
func TestKustomizeMemberOverlay(t *testing.T) {
	dir := t.TempDir()
	rel, err := filepath.Rel(dir, kustomizeDir("member")) // kustomize refuses absolute paths
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{
		"kustomization.yaml": fmt.Sprintf(memberOverlay, rel),
		"hub.kubeconfig":     "apiVersion: v1\nkind: Config\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	built, err := kustomizeBuild(dir)
	if err != nil {
		t.Fatal(err)
	}
	if find(built, "Secret", "karmada-kubeconfig") == nil {
		t.Errorf("the overlay does not add Secret karmada-kubeconfig: %s", refs(built))
	}
	cmd := command(podSpec(t, built, "Deployment", "karmada-agent"))
	if !slices.Contains(cmd, "--cluster-name=edge-1") || slices.Contains(cmd, "--cluster-name=member") {
		t.Errorf("the overlay does not replace the base's cluster name: %v", cmd)
	}
}
