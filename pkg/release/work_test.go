package release

import (
	"slices"
	"testing"

	"github.com/tether-io/tether/pkg/manifest"
)

func TestCandidatesMergeByKeyAndSkipCurrent(t *testing.T) {
	a := manifest.Identity{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "a"}
	b := manifest.Identity{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "b"}
	c := manifest.Identity{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "ns", Name: "c"}
	bOtherVersion := b
	bOtherVersion.Version = "v2"

	current := map[manifest.Key]bool{a.Key(): true}
	got := Candidates(current, []manifest.Identity{a, c}, []manifest.Identity{a, b, bOtherVersion})
	if want := []manifest.Identity{c, b}; !slices.Equal(got, want) {
		t.Errorf("Candidates = %v, want %v", got, want)
	}
}
