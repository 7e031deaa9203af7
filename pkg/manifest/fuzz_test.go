package manifest

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unicode"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"
)

// fuzzOrdinal is the ordinal every fuzzed manifest is decoded at.
const fuzzOrdinal = 7

// decodeSeeds are manifests as Works carry them, and each way one can be
// broken.
var decodeSeeds = []string{
	`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","labels":{"app":"web"}},"spec":{"replicas":3,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}`,
	`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db-credentials"},"type":"Opaque","data":{"password":"c3VwZXItc2VjcmV0LXBhc3N3b3Jk"},"stringData":{"user":"admin-of-the-database"}}`,
	`{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"shop","namespace":"stray"}}`,
	`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"system:tether:reader"},"rules":[{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}]}`,
	`{"apiVersion":"example.com/v1alpha1","kind":"Widget","metadata":{"name":"w","namespace":"default","generateName":"w-"},"spec":{"size":1.5}}`,
	`{"apiVersion":"v1","metadata":{"name":"db"},"data":{"password":"c3VwZXItc2VjcmV0LXBhc3N3b3Jk"}}`,
	`{"kind":"Secret","metadata":{"name":"db"},"stringData":{"password":"super-secret-password"}}`,
	`{"apiVersion":"a/b/c3VwZXItc2VjcmV0LXBhc3N3b3Jk","kind":"Secret","metadata":{"name":"db"}}`,
	`{"apiVersion":"v1","kind":"Config/Map","metadata":{"name":"c3VwZXItc2VjcmV0LXBhc3N3b3Jk"}}`,
	`{"apiVersion":"v1","kind":"Secret","metadata":{},"data":{"password":"c3VwZXItc2VjcmV0LXBhc3N3b3Jk"}}`,
	`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"a/c3VwZXItc2VjcmV0LXBhc3N3b3Jk"}}`,
	`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":"c3VwZXItc2VjcmV0LXBhc3N3b3Jk!"}}`,
	`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"db","namespace":7}}`,
	`{"apiVersion":"v1","kind":"Secret","data":{"password":"c3VwZXItc2VjcmV0LXBhc3N3b3Jk"}}`,
	`{"apiVersion":"v1","kind":"Secret","data":{"password":"c3VwZXItc2VjcmV0LXBhc3N3b3Jk`,
	`["c3VwZXItc2VjcmV0LXBhc3N3b3Jk"]`,
	`{"apiVersion":"v1","kind":"Secret","data":{"password":c3VwZXItc2VjcmV0LXBhc3N3b3Jk}}`,
	`null`,
}

// errorVocabulary is the text Decode's errors are made of: the messages
// of the seeds that fail. A piece of an error that the fuzzed input also
// contains is an echo unless it is part of this vocabulary.
var errorVocabulary = sync.OnceValue(func() []string {
	var v []string
	for _, s := range decodeSeeds {
		if m := Decode(fuzzOrdinal, []byte(s)); m.Err != nil {
			v = append(v, m.Err.Error())
		}
	}
	return v
})

// FuzzDecode decodes arbitrary bytes as a manifest. Decode never panics and
// is deterministic. A failure wraps ErrInvalid, names the ordinal and
// quotes no more than 16 bytes of the input that are not its own words. A
// success carries an object whose identity it reports, with every field
// the contract promises, and that identity is normalised by Scope and
// survives encoding the object again.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s), true)
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, raw []byte, namespaced bool) {
		m := Decode(fuzzOrdinal, raw)
		if again := Decode(fuzzOrdinal, raw); errText(again.Err) != errText(m.Err) || again.ID != m.ID {
			t.Fatalf("Decode is not deterministic: %+v (%v), then %+v (%v)", m.ID, m.Err, again.ID, again.Err)
		}
		if m.Err != nil {
			checkDecodeError(t, raw, m)
			return
		}
		checkIdentity(t, m)
		unscoped := m.ID
		m.Scope(namespaced)
		checkScoped(t, m, unscoped, namespaced)
		encoded, err := json.Marshal(m.Object.Object)
		if err != nil {
			t.Fatalf("a decoded manifest does not encode: %v", err)
		}
		re := Decode(fuzzOrdinal, encoded)
		if re.Err != nil || re.ID != m.ID {
			t.Fatalf("the scoped manifest decodes again as %+v (%v), want %+v", re.ID, re.Err, m.ID)
		}
	})
}

// FuzzDecodeSecret builds a Secret from fuzzed identity fields and data: a
// decoding error never contains the Secret's data, however the identity
// is broken.
func FuzzDecodeSecret(f *testing.F) {
	f.Add("v1", "Secret", "db", "shop", "c3VwZXItc2VjcmV0LXBhc3N3b3Jk")
	f.Add("", "Secret", "db", "", "hunter2-hunter2")
	f.Add("v1", "", "db", "shop", "hunter2-hunter2")
	f.Add("v1", "Secret", "", "shop", "hunter2-hunter2")
	f.Add("v1", "Secret", "a/b", "shop", "hunter2-hunter2")
	f.Add("v1", "Secret", "db", "Shop!", "hunter2-hunter2")
	f.Add("a/b/c", "Secret", "db", "shop", "hunter2-hunter2")
	f.Fuzz(func(t *testing.T, apiVersion, kind, name, namespace, value string) {
		obj := map[string]any{"apiVersion": apiVersion, "kind": kind, "type": "Opaque",
			"metadata": map[string]any{"name": name, "namespace": namespace},
			"data":     map[string]any{"k": value}, "stringData": map[string]any{"s": value}}
		raw, err := json.Marshal(obj)
		if err != nil {
			return
		}
		// JSON carries invalid UTF-8 as U+FFFD: the value as the Work holds it.
		var encoded string
		if err := json.Unmarshal(must(json.Marshal(value)), &encoded); err != nil {
			t.Fatal(err)
		}
		value = encoded
		m := Decode(fuzzOrdinal, raw)
		if m.Err == nil {
			if got := m.Object.Object["data"].(map[string]any)["k"]; got != value {
				t.Fatalf("data changed in decoding")
			}
			return
		}
		if len(value) >= 8 && strings.Contains(m.Err.Error(), value) && !inVocabulary(value) {
			t.Fatalf("the error quotes the Secret's data %q: %v", value, m.Err)
		}
		checkDecodeError(t, raw, m)
	})
}

func checkDecodeError(t *testing.T, raw []byte, m Manifest) {
	t.Helper()
	if m.Usable() || m.Object != nil {
		t.Fatalf("a failed manifest has an object: %+v", m)
	}
	if !errors.Is(m.Err, ErrInvalid) {
		t.Fatalf("error does not wrap ErrInvalid: %v", m.Err)
	}
	msg := m.Err.Error()
	if !strings.HasPrefix(msg, "manifest "+strconv.Itoa(fuzzOrdinal)+" ") {
		t.Fatalf("error does not name the ordinal: %s", msg)
	}
	if echo := echoed(msg, string(raw)); echo != "" {
		t.Fatalf("error quotes %q of the manifest: %s", echo, msg)
	}
}

// echoed returns a piece of msg longer than 16 bytes that input contains
// and the error vocabulary does not, or "".
func echoed(msg, input string) string {
	const n = 17
	for i := 0; i+n <= len(msg); i++ {
		w := msg[i : i+n]
		if strings.Contains(input, w) && !inVocabulary(w) {
			return w
		}
	}
	return ""
}

func inVocabulary(s string) bool {
	for _, v := range errorVocabulary() {
		if strings.Contains(v, s) {
			return true
		}
	}
	return false
}

// checkIdentity: the identity is the object's, and is one an apiserver
// could hold: a canonical apiVersion with a version, a kind without blanks
// or slashes, a name that is not blank and can be a path segment, a
// namespace that is a DNS-1123 label.
func checkIdentity(t *testing.T, m Manifest) {
	t.Helper()
	if !m.Usable() || m.Scoped {
		t.Fatalf("a decoded manifest is not usable, or is already scoped: %+v", m)
	}
	if got := IdentityOf(m.Object); got != m.ID {
		t.Fatalf("identity %+v, but the object says %+v", m.ID, got)
	}
	id := m.ID
	gv, err := schema.ParseGroupVersion(m.Object.GetAPIVersion())
	if err != nil || gv != id.GVK().GroupVersion() {
		t.Fatalf("identity %+v from apiVersion %q (%v)", id, m.Object.GetAPIVersion(), err)
	}
	if id.Version == "" || gv.String() != m.Object.GetAPIVersion() || strings.ContainsFunc(m.Object.GetAPIVersion(), unicode.IsSpace) {
		t.Fatalf("decoded a malformed apiVersion %q as %+v", m.Object.GetAPIVersion(), id)
	}
	if id.Kind == "" || strings.ContainsFunc(id.Kind, unicode.IsSpace) || strings.Contains(id.Kind, "/") {
		t.Fatalf("decoded a malformed kind %q", id.Kind)
	}
	if strings.TrimSpace(id.Name) == "" || len(content.IsPathSegmentName(id.Name)) > 0 {
		t.Fatalf("decoded an identity without a usable name: %+v", id)
	}
	if id.Namespace != "" && len(validation.IsDNS1123Label(id.Namespace)) > 0 {
		t.Fatalf("decoded an identity with an invalid namespace: %+v", id)
	}
}

// checkScoped: Scope puts a namespaced object in a namespace ("default"
// when it named none) and takes a cluster-scoped object out of any, in the
// identity and the object alike, and changes nothing else.
func checkScoped(t *testing.T, m Manifest, unscoped Identity, namespaced bool) {
	t.Helper()
	want := unscoped
	switch {
	case !namespaced:
		want.Namespace = ""
	case want.Namespace == "":
		want.Namespace = "default"
	}
	if !m.Scoped || m.ID != want || IdentityOf(m.Object) != want {
		t.Fatalf("Scope(%v) of %+v gave %+v, object %+v; want %+v", namespaced, unscoped, m.ID, IdentityOf(m.Object), want)
	}
	other := m.ID
	other.Version += "x"
	if other.Key() != m.ID.Key() || other.GVK() == m.ID.GVK() {
		t.Fatalf("Key of %+v depends on the version", m.ID)
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
