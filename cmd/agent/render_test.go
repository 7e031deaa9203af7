package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	renderCluster = `
apiVersion: cluster.karmada.io/v1alpha1
kind: Cluster
metadata:
  name: edge-7
  labels: {env: prod}
spec:
  syncMode: Pull
  region: eu-west-1
`
	renderPolicies = `
apiVersion: policy.karmada.io/v1alpha1
kind: ClusterOverridePolicy
metadata:
  name: pin
spec:
  resourceSelectors:
    - {apiVersion: apps/v1, kind: Deployment}
  overrideRules:
    - overriders:
        imageOverrider:
          - {component: Tag, operator: replace, value: "1.20"}
---
apiVersion: policy.karmada.io/v1alpha1
kind: OverridePolicy
metadata:
  name: edge-only
  namespace: shop
spec:
  overrideRules:
    - targetCluster:
        clusterNames: [edge-7]
      overriders:
        labelsOverrider:
          - {operator: add, value: {site: edge}}
`
	renderDeployment = `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  template:
    spec:
      containers:
        - {name: web, image: nginx}
`
	renderConfigMap = `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"shop"},"data":{"a":"1"}}`
)

// The rendered objects, exactly as the agent applies them: with the
// annotations that record the overriders applied.
const (
	appliedPin      = `    policy.karmada.io/applied-cluster-overrides: '[{"policyName":"pin","overriders":{"imageOverrider":[{"component":"Tag","operator":"replace","value":"1.20"}]}}]'` + "\n"
	appliedEdgeOnly = `    policy.karmada.io/applied-overrides: '[{"policyName":"edge-only","overriders":{"labelsOverrider":[{"operator":"add","value":{"site":"edge"}}]}}]'` + "\n"
)

const renderedConfigMap = "apiVersion: v1\ndata:\n  a: \"1\"\nkind: ConfigMap\nmetadata:\n  annotations:\n" + appliedEdgeOnly +
	"  labels:\n    site: edge\n  name: cfg\n  namespace: shop\n"

const renderedDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  annotations:
` + appliedPin + appliedEdgeOnly + `  labels:
    site: edge
  name: web
  namespace: shop
spec:
  replicas: 2
  template:
    spec:
      containers:
      - image: nginx:1.20
        name: web
`

// runRender runs tether-agent with args in-process and returns its stdout,
// stderr and error.
func runRender(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := newRootCommand()
	cmd.SetArgs(args)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetOut(&stdout)
	cmd.SetErr(&stderr)
	err := cmd.Execute()
	return stdout.String(), stderr.String(), err
}

// writeFiles writes each document set to its own file and returns the paths.
func writeFiles(t *testing.T, contents ...string) []string {
	t.Helper()
	dir := t.TempDir()
	paths := make([]string, len(contents))
	for i, c := range contents {
		paths[i] = filepath.Join(dir, "in"+string(rune('a'+i))+".yaml")
		if err := os.WriteFile(paths[i], []byte(c), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return paths
}

func TestRenderCommandOutputs(t *testing.T) {
	files := writeFiles(t, renderCluster+"---\n"+renderPolicies, renderDeployment+"---\n"+renderConfigMap)
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  string
	}{
		{name: "yaml from files, input order", args: []string{"render", "-f", files[0], "-f", files[1]},
			want: renderedDeployment + "---\n" + renderedConfigMap},
		{name: "stdin mixed with a file, --cluster stands in", stdin: renderDeployment, args: []string{"render", "-f", "-", "-f", writeFiles(t, renderPolicies)[0], "--cluster", "edge-7"},
			want: renderedDeployment},
		{name: "--cluster stands in for another member", stdin: renderPolicies + "---\n" + renderDeployment, args: []string{"render", "-f", "-", "--cluster", "edge-8"},
			want: strings.Replace(strings.Replace(renderedDeployment, "  labels:\n    site: edge\n", "", 1), appliedEdgeOnly, "", 1)},
		{name: "--cluster picks one of several", stdin: renderCluster + "---\n" + strings.Replace(renderCluster, "edge-7", "edge-8", 1) + "---\n" + renderPolicies + "---\n" + renderDeployment,
			args: []string{"render", "-f", "-", "--cluster", "edge-7"}, want: renderedDeployment},
		{name: "a List is expanded", stdin: renderCluster + "---\n" + renderPolicies + "---\n" + `{"apiVersion":"v1","kind":"List","items":[` + renderConfigMap + `]}`,
			args: []string{"render", "-f", "-"}, want: renderedConfigMap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, err := runRender(t, tt.stdin, tt.args...)
			if err != nil {
				t.Fatalf("render: %v", err)
			}
			if stdout != tt.want {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout, tt.want)
			}
			if stderr != "" {
				t.Errorf("stderr without --explain: %q", stderr)
			}
		})
	}
}

func TestRenderCommandJSONAndExplain(t *testing.T) {
	stdout, stderr, err := runRender(t, renderCluster+"---\n"+renderPolicies+"---\n"+renderDeployment, "render", "-f", "-", "-o", "json", "--explain")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Spec struct {
			Replicas int64
			Template struct {
				Spec struct{ Containers []struct{ Image string } }
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("-o json printed %q: %v", stdout, err)
	}
	if got.Spec.Replicas != 2 || len(got.Spec.Template.Spec.Containers) != 1 || got.Spec.Template.Spec.Containers[0].Image != "nginx:1.20" {
		t.Errorf("rendered %+v", got)
	}
	for _, line := range []string{
		"# Deployment shop/web on cluster edge-7",
		"  ClusterOverridePolicy pin, rule 0, imageOverrider[0]: replace /spec/template/spec/containers/0/image",
		"  OverridePolicy shop/edge-only, rule 0, labelsOverrider[0]: add /metadata/labels/site",
	} {
		if !strings.Contains(stderr, line+"\n") {
			t.Errorf("--explain output lacks %q:\n%s", line, stderr)
		}
	}
}

// secretWithoutKind is a manifest that does not decode; its error must not
// quote secretValue.
const (
	secretValue       = "c3VwZXItc2VjcmV0LXBhc3N3b3Jk"
	secretWithoutKind = `{"apiVersion":"v1","metadata":{"name":"db","namespace":"shop"},"data":{"password":"` + secretValue + `"}}`
)

func TestRenderCommandFailures(t *testing.T) {
	badTag := strings.Replace(renderPolicies, `value: "1.20"`, `value: "1.20 beta"`, 1)
	tests := []struct {
		name  string
		stdin string
		args  []string
		want  []string
	}{
		{name: "bad policy", stdin: renderCluster + "---\n" + badTag + "---\n" + renderDeployment, args: []string{"-f", "-"},
			want: []string{"render Deployment shop/web", "ClusterOverridePolicy pin", "spec.overrideRules[0].overriders.imageOverrider[0].value", `tag "1.20 beta" does not parse`}},
		{name: "misspelt overrider", stdin: strings.Replace(renderPolicies, "imageOverrider:", "imageOverider:", 1), args: []string{"-f", "-", "--cluster", "x"},
			want: []string{"stdin: document 1: ClusterOverridePolicy pin", "imageOverider"}},
		{name: "OverridePolicy without namespace", stdin: strings.Replace(renderPolicies, "  namespace: shop\n", "", 1), args: []string{"-f", "-", "--cluster", "x"},
			want: []string{"stdin: document 2: OverridePolicy edge-only has no metadata.namespace"}},
		{name: "no cluster", stdin: renderDeployment, args: []string{"-f", "-"}, want: []string{"no Cluster in the input"}},
		{name: "several clusters", stdin: renderCluster + "---\n" + strings.Replace(renderCluster, "edge-7", "edge-8", 1), args: []string{"-f", "-"},
			want: []string{"the input has 2 Clusters (edge-7, edge-8): choose one with --cluster"}},
		{name: "unknown cluster", stdin: renderCluster, args: []string{"-f", "-", "--cluster", "edge-9"}, want: []string{"--cluster edge-9: the input has no such Cluster (it has edge-7)"}},
		{name: "no input", args: nil, want: []string{"no input"}},
		{name: "stdin twice", args: []string{"-f", "-", "-f", "-"}, want: []string{"stdin"}},
		{name: "bad output", args: []string{"-f", "-", "-o", "table"}, want: []string{`--output "table" is not supported`}},
		{name: "missing file", args: []string{"-f", filepath.Join(t.TempDir(), "nope.yaml"), "--cluster", "x"}, want: []string{"nope.yaml"}},
		{name: "not YAML", stdin: "kind: [", args: []string{"-f", "-", "--cluster", "x"}, want: []string{"stdin: document 1"}},
		{name: "no kind", stdin: renderPolicies + "---\n" + secretWithoutKind, args: []string{"-f", "-", "--cluster", "x"},
			want: []string{"stdin: document 3: has no kind"}},
		{name: "not an object", stdin: "- a\n- b\n", args: []string{"-f", "-", "--cluster", "x"}, want: []string{"stdin: document 1: is not an object"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			stdout, _, err := runRender(t, tt.stdin, append([]string{"render"}, tt.args...)...)
			if err == nil {
				t.Fatalf("render succeeded:\n%s", stdout)
			}
			if stdout != "" {
				t.Errorf("a failed render printed %q", stdout)
			}
			if strings.Contains(err.Error(), secretValue) {
				t.Errorf("the error quotes the input: %v", err)
			}
			for _, part := range tt.want {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
		})
	}
}
