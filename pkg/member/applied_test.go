package member

import (
	"slices"
	"testing"

	"github.com/tether-io/tether/pkg/manifest"
)

func TestAppliedSetMergesByKey(t *testing.T) {
	a := manifest.Identity{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "a"}
	b := manifest.Identity{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "b"}
	bOtherVersion := b
	bOtherVersion.Version = "v2"

	o := New(Config{})
	o.AddApplied("ns/w", []manifest.Identity{a})
	o.AddApplied("ns/w", []manifest.Identity{bOtherVersion, a, b})
	if got, want := o.AppliedBy("ns/w"), []manifest.Identity{a, bOtherVersion}; !slices.Equal(got, want) {
		t.Errorf("AppliedBy = %v, want %v", got, want)
	}
	o.Released("ns/w", map[manifest.Key]bool{a.Key(): true})
	if got, want := o.AppliedBy("ns/w"), []manifest.Identity{bOtherVersion}; !slices.Equal(got, want) {
		t.Errorf("after a release AppliedBy = %v, want %v", got, want)
	}
	o.ForgetWork("ns/w")
	if got := o.AppliedBy("ns/w"); len(got) != 0 {
		t.Errorf("after ForgetWork AppliedBy = %v", got)
	}
}
