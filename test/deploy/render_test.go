package deploy

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/tether-io/tether/test/testenv"
)

// Charts and the namespace they are installed into (register's).
const (
	agentChart = "tether-agent"
	hubChart   = "tether-hub"
	namespace  = "karmada-system"
)

func chartDir(name string) string { return filepath.Join(testenv.RepoRoot(), "deploy", "helm", name) }

// rendered is a chart rendered as 'helm install' would, without a cluster.
type rendered struct {
	objects []*unstructured.Unstructured // templates and hooks
	crds    []*unstructured.Unstructured // the chart's crds/ directory
	notes   string
}

// render renders a chart with the Helm SDK, validating the values against
// its values.schema.json, as release "tether" in namespace.
func render(name string, values map[string]any) (*rendered, error) {
	chrt, err := loader.Load(chartDir(name))
	if err != nil {
		return nil, fmt.Errorf("load chart %s: %w", name, err)
	}
	install := action.NewInstall(&action.Configuration{Log: func(string, ...any) {}})
	install.ClientOnly, install.DryRun = true, true
	install.ReleaseName, install.Namespace = "tether", namespace
	install.KubeVersion = &chartutil.KubeVersion{Version: "v1.36.3", Major: "1", Minor: "36"}
	rel, err := install.Run(chrt, values)
	if err != nil {
		return nil, err
	}
	out := &rendered{notes: rel.Info.Notes}
	manifests := []string{rel.Manifest}
	for _, h := range rel.Hooks {
		manifests = append(manifests, h.Manifest)
	}
	if out.objects, err = decodeYAML(strings.Join(manifests, "\n---\n")); err != nil {
		return nil, fmt.Errorf("chart %s: %w", name, err)
	}
	for _, crd := range chrt.CRDObjects() {
		objs, err := decodeYAML(string(crd.File.Data))
		if err != nil {
			return nil, fmt.Errorf("chart %s, %s: %w", name, crd.Filename, err)
		}
		out.crds = append(out.crds, objs...)
	}
	return out, nil
}

// decodeYAML splits a multi-document stream into objects, skipping empty
// documents.
func decodeYAML(stream string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader([]byte(stream)), 4096)
	var out []*unstructured.Unstructured
	for {
		var obj map[string]any
		if err := dec.Decode(&obj); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if len(obj) == 0 {
			continue
		}
		out = append(out, &unstructured.Unstructured{Object: obj})
	}
}

// find returns the object of that kind and name, or nil.
func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

// refs lists the objects as Kind/name, sorted, for messages.
func refs(objs []*unstructured.Unstructured) string {
	var names []string
	for _, o := range objs {
		names = append(names, o.GetKind()+"/"+o.GetName())
	}
	sort.Strings(names)
	return strings.Join(names, " ")
}
