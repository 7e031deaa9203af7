package sync

import (
	"slices"
	"testing"
)

func TestReleaseCandidatesAndMergeRefs(t *testing.T) {
	a := objectRef{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "a"}
	b := objectRef{Version: "v1", Kind: "ConfigMap", Namespace: "ns", Name: "b"}
	c := objectRef{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: "ns", Name: "c"}
	bOtherVersion := b
	bOtherVersion.Version = "v2"

	// b was applied by this process but the status, written before, lists
	// only a and c; the Work now has only a: b and c are released.
	current := map[objectRef]bool{a.id(): true}
	got := releaseCandidates(current, []objectRef{a, c}, []objectRef{a, b, bOtherVersion})
	if want := []objectRef{c, b}; !slices.Equal(got, want) {
		t.Errorf("releaseCandidates = %v, want %v", got, want)
	}

	merged := mergeRefs([]objectRef{a}, []objectRef{bOtherVersion, a, b})
	if want := []objectRef{a, bOtherVersion}; !slices.Equal(merged, want) {
		t.Errorf("mergeRefs = %v, want %v (one entry per identity)", merged, want)
	}
}
