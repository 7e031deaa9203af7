package drift

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestPolicyOf(t *testing.T) {
	cases := []struct {
		name        string
		annotations map[string]string
		def         Mode
		want        Policy
	}{
		{"default", nil, Correct, Policy{Mode: Correct}},
		{"flag default", map[string]string{"other": "x"}, Report, Policy{Mode: Report}},
		{"annotation wins", map[string]string{ModeAnnotation: "report"}, Correct, Policy{Mode: Report}},
		{"correct over a report default", map[string]string{ModeAnnotation: " correct "}, Report, Policy{Mode: Correct}},
		{"ignore", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/spec/replicas, /metadata/labels/team,"}, Correct,
			Policy{Mode: Ignore, Ignore: []Pointer{{"spec", "replicas"}, {"metadata", "labels", "team"}}}},
		{"escapes", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/metadata/annotations/example.com~1owner,/spec/a~0b"}, Correct,
			Policy{Mode: Ignore, Ignore: []Pointer{{"metadata", "annotations", "example.com/owner"}, {"spec", "a~b"}}}},
		{"ignore by default", map[string]string{IgnorePathsAnnotation: "/spec/replicas"}, Ignore,
			Policy{Mode: Ignore, Ignore: []Pointer{{"spec", "replicas"}}}},
		{"list item", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/spec/template/spec/containers/0/image"}, Correct,
			Policy{Mode: Ignore, Ignore: []Pointer{{"spec", "template", "spec", "containers", "0", "image"}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := PolicyOf(c.annotations, c.def)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, c.want) {
				t.Fatalf("got %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestPolicyOfRejects(t *testing.T) {
	const secret = "s3cr3t-value"
	cases := []struct {
		name        string
		annotations map[string]string
		annotation  string // named by the error
		says        string // what the error tells to do
	}{
		{"unknown mode", map[string]string{ModeAnnotation: secret}, ModeAnnotation, "correct, report, ignore"},
		{"ignore without paths", map[string]string{ModeAnnotation: "ignore"}, IgnorePathsAnnotation, "/spec/replicas"},
		{"ignore with blank paths", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: " , "}, IgnorePathsAnnotation, "JSON pointers"},
		{"paths without ignore", map[string]string{IgnorePathsAnnotation: "/spec/replicas"}, IgnorePathsAnnotation, "tether.io/drift-mode: ignore"},
		{"relative path", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "spec.replicas" + secret}, IgnorePathsAnnotation, "start with '/'"},
		{"bad escape", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/spec/replicas,/a~2" + secret}, IgnorePathsAnnotation, "entry 2"},
		{"dangling escape", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/a~"}, IgnorePathsAnnotation, "followed by 0"},
		{"name", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/metadata/name"}, IgnorePathsAnnotation, "remove it"},
		{"kind", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/kind"}, IgnorePathsAnnotation, "kind"},
		{"metadata", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/metadata"}, IgnorePathsAnnotation, "metadata"},
		{"all labels", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/metadata/labels"}, IgnorePathsAnnotation, "markers"},
		{"managed label", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/metadata/labels/karmada.io~1managed"}, IgnorePathsAnnotation, "Karmada"},
		{"work annotation", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/metadata/annotations/work.karmada.io~1name"}, IgnorePathsAnnotation, "Karmada"},
		{"tether annotation", map[string]string{ModeAnnotation: "ignore", IgnorePathsAnnotation: "/metadata/annotations/tether.io~1applied-digest"}, IgnorePathsAnnotation, "Tether"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := PolicyOf(c.annotations, Correct)
			var pe *PolicyError
			if !errors.As(err, &pe) {
				t.Fatalf("want a *PolicyError, got %v", err)
			}
			msg := err.Error()
			if pe.Annotation != c.annotation || !strings.Contains(msg, c.annotation) {
				t.Errorf("%q does not name %s", msg, c.annotation)
			}
			if !strings.Contains(msg, c.says) {
				t.Errorf("%q does not say %q", msg, c.says)
			}
			if strings.Contains(msg, secret) {
				t.Errorf("%q echoes the annotation's value", msg)
			}
		})
	}
}

func TestPointer(t *testing.T) {
	p, err := ParsePointer("/metadata/annotations/a~1b~0c")
	if err != nil {
		t.Fatal(err)
	}
	if got := p.String(); got != "/metadata/annotations/a~1b~0c" {
		t.Errorf("String() = %q", got)
	}
	if !p.Covers(Pointer{"metadata", "annotations", "a/b~c", "x"}) || !p.Covers(p) {
		t.Error("a pointer covers itself and what lies under it")
	}
	if p.Covers(Pointer{"metadata", "annotations"}) || p.Covers(Pointer{"metadata", "annotations", "a/b"}) {
		t.Error("a pointer does not cover its parent nor a sibling")
	}
	idx := Pointer{"0", "12", "01", "-", "x", ""}
	for i, want := range []bool{true, true, false, false, false, false} {
		if _, ok := idx.Index(i); ok != want {
			t.Errorf("Index(%q) ok = %v, want %v", idx[i], ok, want)
		}
	}
	if _, err := ParsePointer(""); err == nil {
		t.Error("the whole document is not a path to ignore")
	}
}

func TestParseMode(t *testing.T) {
	for _, m := range Modes {
		if got, err := ParseMode(string(m)); err != nil || got != m {
			t.Errorf("ParseMode(%q) = %q, %v", m, got, err)
		}
	}
	if _, err := ParseMode("Correct"); err == nil {
		t.Error("mode names are lower case")
	}
}
