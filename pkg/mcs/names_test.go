package mcs

import "testing"

// TestWorkName: the names are karmada-agent's (computed with Karmada's
// names.GenerateWorkName for these inputs), so the control plane finds the
// Work whoever reported the slice.
func TestWorkName(t *testing.T) {
	for _, tc := range []struct{ kind, name, namespace, want string }{
		{"EndpointSlice", "web-abcde", "default", "web-abcde-5db49d65bc"},
		{"EndpointSlice", "Web:X", "shop", "web.x-5559cb5f68"},
		{"EndpointSlice", "s", "", "s-644b57c44b"},
		{"MultiClusterService", "web", "default", "web-6fd7dbb9c6"},
	} {
		if got := WorkName(tc.kind, tc.name, tc.namespace); got != tc.want {
			t.Errorf("WorkName(%q, %q, %q) = %q, want %q", tc.kind, tc.name, tc.namespace, got, tc.want)
		}
	}
}
