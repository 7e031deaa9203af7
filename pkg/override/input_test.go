package override

import (
	"strings"
	"testing"
)

// TestInputRead: documents are sorted by API group and kind (a Cluster of
// another group is a manifest), empty documents skipped, Lists expanded;
// bad documents fail naming the stream and the document, without quoting it.
func TestInputRead(t *testing.T) {
	in := &Input{}
	err := in.Read(strings.NewReader(`
apiVersion: cluster.karmada.io/v1alpha1
kind: Cluster
metadata: {name: edge}
---
---
apiVersion: example.io/v1
kind: Cluster
metadata: {name: not-karmadas}
---
{"apiVersion":"v1","kind":"List","items":[
  {"apiVersion":"policy.karmada.io/v1alpha1","kind":"ClusterOverridePolicy","metadata":{"name":"c"},"spec":{}},
  {"apiVersion":"policy.karmada.io/v1alpha1","kind":"OverridePolicy","metadata":{"name":"o","namespace":"ns"},"spec":{}},
  {"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"ns"}}]}
`), "input.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Clusters) != 1 || in.Clusters[0].Name != "edge" || len(in.Policies.ClusterOverridePolicies) != 1 ||
		len(in.Policies.OverridePolicies) != 1 || len(in.Manifests) != 2 ||
		in.Manifests[0].GetName() != "not-karmadas" || in.Manifests[1].GetName() != "cm" {
		t.Errorf("read %d Clusters, %+v, %d manifests", len(in.Clusters), in.Policies, len(in.Manifests))
	}

	const secret = "c3VwZXItc2VjcmV0"
	for doc, want := range map[string]string{
		`{"apiVersion":"v1","data":{"p":"` + secret + `"}}`:                                           "input.yaml: document 1: has no kind",
		`{"kind":"Secret","data":{"p":"` + secret + `"}}`:                                             "input.yaml: document 1: has no apiVersion",
		`["` + secret + `"]`:                                                                          "input.yaml: document 1: is not an object",
		`{"apiVersion":"v1","kind":"List","items":["` + secret + `"]}`:                                "input.yaml: document 1: List: its items are not objects",
		`{"apiVersion":"policy.karmada.io/v1alpha1","kind":"OverridePolicy","metadata":{"name":"o"}}`: "OverridePolicy o has no metadata.namespace",
		`{"apiVersion":"cluster.karmada.io/v1alpha1","kind":"Cluster","metadata":{"name":"c"},"x":1}`: `Cluster c: strict decoding error: unknown field "x"`,
	} {
		err := (&Input{}).Read(strings.NewReader(doc), "input.yaml")
		if err == nil || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), secret) {
			t.Errorf("%.40s...: error %v, want %q without the content", doc, err, want)
		}
	}
}
