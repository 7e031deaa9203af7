package drift

import (
	"fmt"
	"strconv"
	"strings"
)

// The drift policy of one manifest: what the engine does when the member
// object differs from what Tether applied. It is chosen per manifest by an
// annotation, so that it travels through Karmada's resource templates and
// OverridePolicies unchanged, and defaults to the agent's --drift-mode.

// Mode says what Tether does about drift on one object.
type Mode string

const (
	// Correct repairs drift (the default).
	Correct Mode = "correct"
	// Report records drift and leaves the member object as it is; a change
	// of the manifest on the hub is still applied whole.
	Report Mode = "report"
	// Ignore neither compares nor applies the paths the manifest lists in
	// IgnorePathsAnnotation; the rest of the object is corrected.
	Ignore Mode = "ignore"
)

// Modes lists the modes, for messages and flag help.
var Modes = []Mode{Correct, Report, Ignore}

const (
	// ModeAnnotation on a manifest sets its Mode.
	ModeAnnotation = "tether.io/drift-mode"
	// IgnorePathsAnnotation on a manifest in Ignore mode lists the paths to
	// leave alone: JSON pointers (RFC 6901) into the manifest, separated by
	// commas, such as "/spec/replicas,/metadata/labels/team".
	IgnorePathsAnnotation = "tether.io/drift-ignore-paths"
)

// ParseMode parses a mode name ("correct", "report" or "ignore").
func ParseMode(s string) (Mode, error) {
	for _, m := range Modes {
		if s == string(m) {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown drift mode: use one of %s", modeList())
}

func modeList() string {
	names := make([]string, len(Modes))
	for i, m := range Modes {
		names[i] = string(m)
	}
	return strings.Join(names, ", ")
}

// Policy is the drift policy in force for one manifest.
type Policy struct {
	Mode Mode
	// Ignore lists the paths left alone, in Ignore mode only.
	Ignore []Pointer
}

// PolicyError is an invalid drift annotation on a manifest. Its message
// names the annotation and says what to write instead; it never quotes the
// annotation's value.
type PolicyError struct {
	Annotation string
	Reason     string
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("annotation %s: %s", e.Annotation, e.Reason)
}

// PolicyOf reads the drift policy from a manifest's annotations; without
// ModeAnnotation the mode is def. An invalid annotation is a *PolicyError.
func PolicyOf(annotations map[string]string, def Mode) (Policy, error) {
	mode := def
	if v, ok := annotations[ModeAnnotation]; ok {
		m, err := ParseMode(strings.TrimSpace(v))
		if err != nil {
			return Policy{}, &PolicyError{Annotation: ModeAnnotation, Reason: fmt.Sprintf("the value is not a drift mode: set it to one of %s", modeList())}
		}
		mode = m
	}
	raw, listed := annotations[IgnorePathsAnnotation]
	switch {
	case mode != Ignore && listed:
		return Policy{}, &PolicyError{Annotation: IgnorePathsAnnotation,
			Reason: fmt.Sprintf("paths are only ignored in mode %s: set %s: %s, or remove this annotation", Ignore, ModeAnnotation, Ignore)}
	case mode != Ignore:
		return Policy{Mode: mode}, nil
	}
	paths, err := parsePointers(raw)
	if err != nil {
		return Policy{}, &PolicyError{Annotation: IgnorePathsAnnotation, Reason: err.Error()}
	}
	if len(paths) == 0 {
		return Policy{}, &PolicyError{Annotation: IgnorePathsAnnotation,
			Reason: fmt.Sprintf("mode %s needs the paths to ignore: list JSON pointers separated by commas, such as /spec/replicas", Ignore)}
	}
	return Policy{Mode: Ignore, Ignore: paths}, nil
}

// parsePointers parses a comma-separated list of JSON pointers; blank
// entries (a trailing comma) are skipped.
func parsePointers(list string) ([]Pointer, error) {
	var out []Pointer
	for i, item := range strings.Split(list, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		p, err := ParsePointer(item)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		if reason := protected(p); reason != "" {
			return nil, fmt.Errorf("entry %d would leave out %s, which Tether must apply: remove it", i+1, reason)
		}
		out = append(out, p)
	}
	return out, nil
}

// Pointer is a parsed JSON pointer (RFC 6901): its reference tokens,
// unescaped. The empty Pointer is the whole document.
type Pointer []string

// ParsePointer parses a JSON pointer into a field of an object. The whole
// document ("") is refused: a manifest cannot ignore itself.
func ParsePointer(s string) (Pointer, error) {
	if !strings.HasPrefix(s, "/") {
		return nil, fmt.Errorf("not a JSON pointer: it must start with '/', as in /spec/replicas")
	}
	tokens := strings.Split(s[1:], "/")
	for i, t := range tokens {
		u, err := unescape(t)
		if err != nil {
			return nil, err
		}
		tokens[i] = u
	}
	return Pointer(tokens), nil
}

// unescape decodes one reference token: "~1" is '/', "~0" is '~', and any
// other '~' is an error.
func unescape(t string) (string, error) {
	if !strings.Contains(t, "~") {
		return t, nil
	}
	var b strings.Builder
	for i := 0; i < len(t); i++ {
		if t[i] != '~' {
			b.WriteByte(t[i])
			continue
		}
		if i+1 == len(t) || (t[i+1] != '0' && t[i+1] != '1') {
			return "", fmt.Errorf("not a JSON pointer: '~' must be followed by 0 (for '~') or 1 (for '/')")
		}
		b.WriteByte(map[byte]byte{'0': '~', '1': '/'}[t[i+1]])
		i++
	}
	return b.String(), nil
}

// String formats p as a JSON pointer, escaped.
func (p Pointer) String() string {
	var b strings.Builder
	for _, t := range p {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

// Covers reports whether q is p or lies under it.
func (p Pointer) Covers(q Pointer) bool {
	if len(q) < len(p) {
		return false
	}
	for i := range p {
		if p[i] != q[i] {
			return false
		}
	}
	return true
}

// Index returns token i of p as a list index, if it is one (RFC 6901: a
// decimal number without leading zeros).
func (p Pointer) Index(i int) (int, bool) {
	t := p[i]
	if t == "" || (len(t) > 1 && t[0] == '0') {
		return 0, false
	}
	n, err := strconv.Atoi(t)
	return n, err == nil && n >= 0
}

// protected says what p would take away from Tether's own apply, or "":
// the object's identity, and the labels and annotations Tether and Karmada
// mark managed objects with (any key of a karmada.io or tether.io domain),
// which ownership, garbage collection and drift records depend on.
func protected(p Pointer) string {
	switch {
	case len(p) == 1 && (p[0] == "apiVersion" || p[0] == "kind"):
		return "the object's " + p[0]
	case len(p) == 0 || p[0] != "metadata":
		return ""
	case len(p) == 1:
		return "the object's metadata"
	case p[1] == "name" || p[1] == "namespace":
		return "the object's " + p[1]
	case p[1] != "labels" && p[1] != "annotations":
		return ""
	case len(p) == 2:
		return "every " + strings.TrimSuffix(p[1], "s") + ", among them Tether's markers"
	case systemKey(p[2]):
		return "a " + strings.TrimSuffix(p[1], "s") + " of Tether or Karmada"
	}
	return ""
}

// systemKey reports whether a label or annotation key is in a karmada.io or
// tether.io domain.
func systemKey(key string) bool {
	domain, _, found := strings.Cut(key, "/")
	if !found {
		return false
	}
	for _, d := range []string{"karmada.io", "tether.io"} {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}
