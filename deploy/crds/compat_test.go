package crds

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"sigs.k8s.io/yaml"
)

// karmadaCRDDir holds Karmada's published CRDs (charts/karmada/_crds/bases
// in Karmada's repository), which this repository does not carry: the
// comparison runs where a copy sits at this path and skips itself elsewhere.
const karmadaCRDDir = "../../../shared/karmada-crds"

// karmadaRICFile is Karmada's ResourceInterpreterCustomization CRD, from
// the same source; compared when present.
const karmadaRICFile = "../../../shared/karmada-fixtures/crds/config.karmada.io_resourceinterpretercustomizations.yaml"

// TestSchemaAcceptsKarmadaFields walks every field path in Karmada's Work,
// OverridePolicy, ClusterOverridePolicy and ResourceInterpreterCustomization schemas and checks that Tether's CRD
// has the same path with the same type, enum, format and preserve-unknown
// setting, and that Tether requires nothing Karmada does not.
func TestSchemaAcceptsKarmadaFields(t *testing.T) {
	if _, err := os.Stat(karmadaCRDDir); err != nil {
		t.Skipf("Karmada's CRDs are not at %s: %v", karmadaCRDDir, err)
	}
	ours := map[string]*apiextensionsv1.CustomResourceDefinition{}
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		ours[c.Name] = c
	}
	files, _ := filepath.Glob(filepath.Join(karmadaCRDDir, "*.yaml"))
	if len(files) < 3 {
		t.Fatalf("expected Karmada's three CRD files in %s, found %v", karmadaCRDDir, files)
	}
	if _, err := os.Stat(karmadaRICFile); err == nil {
		files = append(files, karmadaRICFile)
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		theirs := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(raw, theirs); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		t.Run(theirs.Name, func(t *testing.T) {
			mine, ok := ours[theirs.Name]
			if !ok {
				t.Fatalf("Tether ships no CRD named %s", theirs.Name)
			}
			compareNames(t, theirs, mine)
			tv, mv := theirs.Spec.Versions[0], mine.Spec.Versions[0]
			if tv.Name != mv.Name || !mv.Served || !mv.Storage {
				t.Errorf("version: Karmada %s, Tether %s (served %v storage %v)", tv.Name, mv.Name, mv.Served, mv.Storage)
			}
			if !reflect.DeepEqual(tv.AdditionalPrinterColumns, mv.AdditionalPrinterColumns) {
				t.Errorf("printer columns differ:\nKarmada %+v\nTether  %+v", tv.AdditionalPrinterColumns, mv.AdditionalPrinterColumns)
			}
			if !reflect.DeepEqual(tv.Subresources, mv.Subresources) {
				t.Errorf("subresources differ: Karmada %+v, Tether %+v", tv.Subresources, mv.Subresources)
			}
			tp, mp := map[string]apiextensionsv1.JSONSchemaProps{}, map[string]apiextensionsv1.JSONSchemaProps{}
			flatten("", *tv.Schema.OpenAPIV3Schema, tp)
			flatten("", *mv.Schema.OpenAPIV3Schema, mp)
			paths := make([]string, 0, len(tp))
			for p := range tp {
				paths = append(paths, p)
			}
			sort.Strings(paths)
			for _, p := range paths {
				k := tp[p]
				m, ok := mp[p]
				if !ok {
					t.Errorf("%s: field path missing from Tether's schema", p)
					continue
				}
				if k.Type != m.Type || k.Format != m.Format || k.XPreserveUnknownFields != nil != (m.XPreserveUnknownFields != nil) {
					t.Errorf("%s: Karmada type=%q format=%q preserve=%v, Tether type=%q format=%q preserve=%v",
						p, k.Type, k.Format, k.XPreserveUnknownFields != nil, m.Type, m.Format, m.XPreserveUnknownFields != nil)
				}
				if !reflect.DeepEqual(enumOf(k), enumOf(m)) {
					t.Errorf("%s: enum Karmada %v, Tether %v", p, enumOf(k), enumOf(m))
				}
				for _, r := range m.Required {
					if !contains(k.Required, r) {
						t.Errorf("%s: Tether requires %q, Karmada does not", p, r)
					}
				}
			}
		})
	}
}

func compareNames(t *testing.T, theirs, mine *apiextensionsv1.CustomResourceDefinition) {
	t.Helper()
	if theirs.Spec.Group != mine.Spec.Group || theirs.Spec.Scope != mine.Spec.Scope {
		t.Errorf("group/scope: Karmada %s/%s, Tether %s/%s", theirs.Spec.Group, theirs.Spec.Scope, mine.Spec.Group, mine.Spec.Scope)
	}
	if !reflect.DeepEqual(theirs.Spec.Names, mine.Spec.Names) {
		t.Errorf("names differ:\nKarmada %+v\nTether  %+v", theirs.Spec.Names, mine.Spec.Names)
	}
}

// flatten records every schema node under its field path (a.b[].c, a{} for map values).
func flatten(path string, s apiextensionsv1.JSONSchemaProps, out map[string]apiextensionsv1.JSONSchemaProps) {
	out[path] = s
	for name, child := range s.Properties {
		flatten(path+"."+name, child, out)
	}
	if s.Items != nil && s.Items.Schema != nil {
		flatten(path+"[]", *s.Items.Schema, out)
	}
	if s.AdditionalProperties != nil && s.AdditionalProperties.Schema != nil {
		flatten(path+"{}", *s.AdditionalProperties.Schema, out)
	}
}

func enumOf(s apiextensionsv1.JSONSchemaProps) []string {
	var out []string
	for _, e := range s.Enum {
		out = append(out, string(e.Raw))
	}
	sort.Strings(out)
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
