package interpret

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"sigs.k8s.io/yaml"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// fuzzKinds are the kinds FuzzInterpret chooses from: every kind with a
// health rule or a reflector, then a custom resource and a ConfigMap (no
// rule at all).
func fuzzKinds() []schema.GroupVersionKind {
	seen := map[schema.GroupVersionKind]bool{}
	var kinds []schema.GroupVersionKind
	for gvk := range healthRules {
		seen[gvk] = true
		kinds = append(kinds, gvk)
	}
	for gvk := range reflectors {
		if !seen[gvk] {
			kinds = append(kinds, gvk)
		}
	}
	sort.Slice(kinds, func(i, j int) bool { return kinds[i].String() < kinds[j].String() })
	return append(kinds,
		schema.GroupVersionKind{Group: "example.com", Version: "v1", Kind: "Widget"},
		schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"})
}

// liveSeeds reads testdata/live-objects.yaml: realistic live objects of
// every kind in fuzzKinds, as JSON.
func liveSeeds(t testing.TB) [][]byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/live-objects.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, doc := range strings.Split(string(raw), "\n---\n") {
		j, err := yaml.YAMLToJSON([]byte(doc))
		if err != nil {
			t.Fatalf("testdata/live-objects.yaml: %v", err)
		}
		out = append(out, j)
	}
	return out
}

// TestLiveSeedsCoverEveryKind keeps the seed corpus of FuzzInterpret
// honest: a kind that gains a rule needs a realistic seed object.
func TestLiveSeedsCoverEveryKind(t *testing.T) {
	have := map[schema.GroupVersionKind]bool{}
	for _, seed := range liveSeeds(t) {
		obj, ok := decodeLive(seed)
		if !ok {
			t.Fatalf("seed does not decode: %s", seed)
		}
		have[obj.GroupVersionKind()] = true
	}
	for _, gvk := range fuzzKinds() {
		if !have[gvk] {
			t.Errorf("testdata/live-objects.yaml has no %s", gvk)
		}
	}
}

// decodeLive decodes a JSON object the way a client does (integers as int64).
func decodeLive(data []byte) (*unstructured.Unstructured, bool) {
	var obj map[string]any
	if err := utiljson.Unmarshal(data, &obj); err != nil || obj == nil {
		return nil, false
	}
	return &unstructured.Unstructured{Object: obj}, true
}

// FuzzInterpret gives ReflectStatus, Health and Slim any live object, as one
// of the kinds the package knows (kind indexes fuzzKinds; past its end the
// object keeps its own apiVersion and kind). Neither panics nor changes its
// input; both are deterministic; the reflected status is nil or a JSON
// object; the health is one of Karmada's three values; an error names the
// object but echoes none of its string values; and Slim changes neither
// verdict of an object the kind's rules can read.
func FuzzInterpret(f *testing.F) {
	kinds := fuzzKinds()
	index := map[schema.GroupVersionKind]uint8{}
	for i, gvk := range kinds {
		index[gvk] = uint8(i)
	}
	for _, seed := range liveSeeds(f) {
		obj, _ := decodeLive(seed)
		f.Add(index[obj.GroupVersionKind()], seed)
		f.Add(uint8(255), seed)
	}
	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		obj, ok := decodeLive(data)
		if !ok {
			return
		}
		if int(kind) < len(kinds) {
			obj.SetGroupVersionKind(kinds[kind])
		}
		input := obj.DeepCopy()
		raw, rawErr := ReflectStatus(obj)
		health := Health(obj)
		if !reflect.DeepEqual(obj.Object, input.Object) {
			t.Fatal("ReflectStatus or Health changed the object")
		}
		raw2, rawErr2 := ReflectStatus(obj)
		if errText(rawErr) != errText(rawErr2) || !bytes.Equal(rawBytes(raw), rawBytes(raw2)) {
			t.Fatalf("ReflectStatus is not deterministic: %s (%v), then %s (%v)", rawBytes(raw), rawErr, rawBytes(raw2), rawErr2)
		}
		if again := Health(obj); again != health {
			t.Fatalf("Health is not deterministic: %s, then %s", health, again)
		}
		checkReflected(t, obj, raw, rawErr)
		switch health {
		case workv1alpha1.ResourceHealthy, workv1alpha1.ResourceUnhealthy, workv1alpha1.ResourceUnknown:
		default:
			t.Fatalf("Health = %q, not one of Karmada's values", health)
		}
		checkSlim(t, obj, raw, rawErr, health)
	})
}

// checkReflected: a reflected status is nil or a JSON object (non-empty
// for the kinds whose empty status means nothing to report); an
// error is never empty and echoes no string value of what the manifest
// set (anything outside .status) other than the object's identity. It may
// quote a status value it cannot parse (a malformed timestamp): status is
// the member's, and an apiserver never serves one of these kinds with a
// malformed status.
func checkReflected(t *testing.T, obj *unstructured.Unstructured, raw *runtime.RawExtension, err error) {
	t.Helper()
	if err != nil {
		if raw != nil || err.Error() == "" {
			t.Fatalf("ReflectStatus failed with a result or an empty error: %v", err)
		}
		msg := strings.ReplaceAll(err.Error(), obj.GetKind()+" "+obj.GetNamespace()+"/"+obj.GetName(), "")
		manifest := obj.DeepCopy()
		delete(manifest.Object, "status")
		if leak := echoedValue(manifest.Object, msg); leak != "" {
			t.Fatalf("ReflectStatus error echoes a value of the object (%q): %v", leak, err)
		}
		return
	}
	if raw == nil {
		return
	}
	var m map[string]any
	if jerr := json.Unmarshal(raw.Raw, &m); jerr != nil || m == nil {
		t.Fatalf("reflected status is not a JSON object: %s (%v)", raw.Raw, jerr)
	}
	if len(m) == 0 && emptyIsNothing[obj.GroupVersionKind()] {
		t.Fatal("reflected status is an empty object; it should be nil")
	}
}

// checkSlim: Slim keeps what the rules read. Only objects whose status the
// kind's rules could read are held to it: Slim may well repair garbage.
func checkSlim(t *testing.T, obj *unstructured.Unstructured, raw *runtime.RawExtension, rawErr error, health workv1alpha1.ResourceHealth) {
	t.Helper()
	if rawErr != nil || health == workv1alpha1.ResourceUnknown {
		return
	}
	slim := obj.DeepCopy()
	Slim(slim)
	slimRaw, err := ReflectStatus(slim)
	if err != nil || !bytes.Equal(rawBytes(slimRaw), rawBytes(raw)) {
		t.Fatalf("Slim changed the reflected status: %s, then %s (%v)", rawBytes(raw), rawBytes(slimRaw), err)
	}
	if got := Health(slim); got != health {
		t.Fatalf("Slim changed the health: %s, then %s", health, got)
	}
}

// echoedValue returns a string value of obj longer than 16 bytes that msg
// contains, or "".
func echoedValue(obj any, msg string) string {
	switch v := obj.(type) {
	case string:
		if len(v) > 16 && strings.Contains(msg, v) {
			return v
		}
	case map[string]any:
		for _, e := range v {
			if leak := echoedValue(e, msg); leak != "" {
				return leak
			}
		}
	case []any:
		for _, e := range v {
			if leak := echoedValue(e, msg); leak != "" {
				return leak
			}
		}
	}
	return ""
}

func rawBytes(r *runtime.RawExtension) []byte {
	if r == nil {
		return nil
	}
	return r.Raw
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
