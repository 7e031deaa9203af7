package manifest

import (
	"errors"
	"strings"
	"testing"
)

func TestDecodeErrorsNeverQuoteTheManifest(t *testing.T) {
	const secret = "c3VwZXItc2VjcmV0LXBhc3N3b3Jk"
	cases := map[string]string{
		"no kind":         `{"apiVersion":"v1","metadata":{"name":"db"},"data":{"password":"` + secret + `"}}`,
		"no apiVersion":   `{"kind":"Secret","metadata":{"name":"db"},"data":{"password":"` + secret + `"}}`,
		"bad apiVersion":  `{"apiVersion":"a/b/` + secret + `","kind":"Secret","metadata":{"name":"db"}}`,
		"no name":         `{"apiVersion":"v1","kind":"Secret","metadata":{},"data":{"password":"` + secret + `"}}`,
		"bad name":        `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a/` + secret + `"}}`,
		"bad namespace":   `{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"` + secret + `!"}}`,
		"no metadata":     `{"apiVersion":"v1","kind":"Secret","data":{"password":"` + secret + `"}}`,
		"truncated JSON":  `{"apiVersion":"v1","kind":"Secret","data":{"password":"` + secret,
		"not an object":   `["` + secret + `"]`,
		"syntax mid-file": `{"apiVersion":"v1","kind":"Secret","data":{"password":` + secret + `}}`,
	}
	for name, raw := range cases {
		t.Run(name, func(t *testing.T) {
			m := Decode(3, []byte(raw))
			if m.Err == nil || m.Usable() {
				t.Fatalf("decoded an invalid manifest: %+v", m)
			}
			if !errors.Is(m.Err, ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", m.Err)
			}
			msg := m.Err.Error()
			if strings.Contains(msg, secret[:8]) || strings.Contains(msg, "password") {
				t.Errorf("error quotes the manifest: %s", msg)
			}
			if !strings.HasPrefix(msg, "manifest 3 ") {
				t.Errorf("error does not name the ordinal: %s", msg)
			}
		})
	}
}

func TestDecodeKeepsIntegersAndIdentity(t *testing.T) {
	m := Decode(0, []byte(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web"},"spec":{"replicas":3}}`))
	if !m.Usable() {
		t.Fatal(m.Err)
	}
	if r, ok := m.Object.Object["spec"].(map[string]any)["replicas"].(int64); !ok || r != 3 {
		t.Errorf("replicas decoded as %T %v, want int64 3", m.Object.Object["spec"].(map[string]any)["replicas"], r)
	}
	want := Identity{Group: "apps", Version: "v1", Kind: "Deployment", Name: "web"}
	if m.ID != want {
		t.Errorf("identity %+v, want %+v", m.ID, want)
	}
	m.Scope(true)
	if m.ID.Namespace != "default" || m.Object.GetNamespace() != "default" {
		t.Errorf("a namespaced manifest without a namespace is scoped to %q/%q, want default", m.ID.Namespace, m.Object.GetNamespace())
	}
	ns := Decode(1, []byte(`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"x","namespace":"stray"}}`))
	ns.Scope(false)
	if ns.ID.Namespace != "" || ns.Object.GetNamespace() != "" {
		t.Errorf("a cluster-scoped manifest keeps namespace %q", ns.ID.Namespace)
	}
	if a, b := (Identity{Kind: "ConfigMap", Name: "a", Version: "v1"}).Key(), (Identity{Kind: "ConfigMap", Name: "a", Version: "v2"}).Key(); a != b {
		t.Errorf("keys of two versions of one object differ: %v %v", a, b)
	}
}
