package manifest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/apimachinery/pkg/util/validation"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Manifest is one manifest of a Work: its position, the object it decodes
// to and that object's identity, or why it cannot be used.
type Manifest struct {
	Ordinal int
	// ID is the identity as written in the manifest until Scope is called
	// (Scoped is then true and the namespace follows the kind's scope).
	ID     Identity
	Scoped bool
	// Object is the decoded manifest; nil when Err is set.
	Object *unstructured.Unstructured
	// Err says why the manifest is unusable. It never quotes the manifest.
	Err error
}

// Usable reports whether the manifest decoded and has not failed since.
func (m *Manifest) Usable() bool { return m.Err == nil && m.Object != nil }

// Scope normalises the identity (and the object's namespace) for the kind's
// REST scope; see Identity.Scoped.
func (m *Manifest) Scope(namespaced bool) {
	m.ID = m.ID.Scoped(namespaced)
	m.Scoped = true
	if m.Object != nil && m.Object.GetNamespace() != m.ID.Namespace {
		m.Object.SetNamespace(m.ID.Namespace)
	}
}

// Fail marks the manifest unusable with err.
func (m *Manifest) Fail(err error) { m.Err = err }

// DecodeWork decodes every manifest of a Work. A bad manifest gets an error
// of its own and the others are unaffected.
func DecodeWork(work *workv1alpha1.Work) []Manifest {
	out := make([]Manifest, len(work.Spec.Workload.Manifests))
	for i, m := range work.Spec.Workload.Manifests {
		out[i] = Decode(i, m.Raw)
	}
	return out
}

// Decode decodes one manifest. Its error names the ordinal and what is
// missing or malformed, never a value from the manifest.
func Decode(ordinal int, raw []byte) Manifest {
	m := Manifest{Ordinal: ordinal}
	obj, err := decodeObject(raw)
	if err != nil {
		m.Err = fmt.Errorf("manifest %d %w", ordinal, err)
		return m
	}
	m.ID = IdentityOf(obj)
	m.Object = obj
	return m
}

// ErrInvalid is wrapped by every decoding error.
var ErrInvalid = errors.New("invalid manifest")

func decodeObject(raw []byte) (*unstructured.Unstructured, error) {
	var v any
	if err := utiljson.Unmarshal(raw, &v); err != nil {
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, fmt.Errorf("is not valid JSON (syntax error at byte %d): %w", syntax.Offset, ErrInvalid)
		}
		return nil, fmt.Errorf("is not valid JSON: %w", ErrInvalid)
	}
	object, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("is not a JSON object: %w", ErrInvalid)
	}
	obj := &unstructured.Unstructured{Object: object}
	apiVersion, ok := object["apiVersion"].(string)
	if !ok || apiVersion == "" {
		return nil, fmt.Errorf("has no apiVersion (a string such as \"v1\" or \"apps/v1\"): %w", ErrInvalid)
	}
	// ParseGroupVersion accepts "apps/", "/v1" and blanks.
	if gv, err := schema.ParseGroupVersion(apiVersion); err != nil || gv.Version == "" || gv.String() != apiVersion || hasSpace(apiVersion) {
		return nil, fmt.Errorf("has a malformed apiVersion (expected \"version\" or \"group/version\"): %w", ErrInvalid)
	}
	kind, ok := object["kind"].(string)
	if !ok || strings.TrimSpace(kind) == "" {
		return nil, fmt.Errorf("has no kind: %w", ErrInvalid)
	}
	if hasSpace(kind) || strings.Contains(kind, "/") {
		return nil, fmt.Errorf("has a malformed kind (expected a name such as \"Deployment\"): %w", ErrInvalid)
	}
	md, ok := object["metadata"].(map[string]any)
	if !ok {
		return nil, fmt.Errorf("has no metadata object: %w", ErrInvalid)
	}
	name, ok := md["name"].(string)
	if !ok || strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("has no metadata.name: %w", ErrInvalid)
	}
	if len(content.IsPathSegmentName(name)) > 0 {
		return nil, fmt.Errorf("has a metadata.name that cannot name an object: %w", ErrInvalid)
	}
	if ns, present := md["namespace"]; present {
		s, ok := ns.(string)
		if !ok || (s != "" && len(validation.IsDNS1123Label(s)) > 0) {
			return nil, fmt.Errorf("has a metadata.namespace that is not a DNS-1123 label: %w", ErrInvalid)
		}
	}
	return obj, nil
}

func hasSpace(s string) bool { return strings.ContainsFunc(s, unicode.IsSpace) }

// Result is what became of one manifest of a Work in the member: applied
// (Err nil), or why not.
type Result struct {
	// Err names the manifest's object and what went wrong; it never quotes
	// the manifest.
	Err error
	// Terminal says a retry will not fix Err: the manifest waits for the
	// Work (or the member, or a policy) to change.
	Terminal bool
}
