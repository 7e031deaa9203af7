package cluster

import (
	"encoding/json"
	"strings"
	"testing"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

func TestOwnedSpecPatch(t *testing.T) {
	live := clusterv1alpha1.ClusterSpec{
		ID: "id", SyncMode: clusterv1alpha1.Pull, APIEndpoint: "https://a", Provider: "p", Region: "r1",
		Zones: []string{"z1"}, Taints: nil, ResourceModels: []clusterv1alpha1.ResourceModel{{Grade: 0}},
	}
	cases := []struct {
		name string
		want clusterv1alpha1.ClusterSpec
		out  string
	}{
		{"nothing differs", live, `{}`},
		{"empty optional settings leave the hub's values", clusterv1alpha1.ClusterSpec{ID: "id", SyncMode: clusterv1alpha1.Pull}, `{}`},
		{"changed region and zones", clusterv1alpha1.ClusterSpec{ID: "id", SyncMode: clusterv1alpha1.Pull, Region: "r2", Zones: []string{"z1", "z2"}},
			`{"region":"r2","zones":["z1","z2"]}`},
		{"the id and the TLS flag are owned", clusterv1alpha1.ClusterSpec{ID: "id2", SyncMode: clusterv1alpha1.Pull, InsecureSkipTLSVerification: true},
			`{"id":"id2","insecureSkipTLSVerification":true}`},
		{"credentials add a secretRef", clusterv1alpha1.ClusterSpec{ID: "id", SyncMode: clusterv1alpha1.Pull,
			SecretRef: &clusterv1alpha1.LocalSecretReference{Namespace: "karmada-cluster", Name: "c"}},
			`{"secretRef":{"namespace":"karmada-cluster","name":"c"}}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := json.Marshal(ownedSpecPatch(live, tc.want))
			if err != nil {
				t.Fatal(err)
			}
			if string(raw) != tc.out {
				t.Fatalf("patch = %s, want %s", raw, tc.out)
			}
		})
	}
}

func TestClashErrorSaysWhatClashes(t *testing.T) {
	name := (&ClashError{Field: "name", Name: "c1", ID: "a", Holder: "c1", HolderID: "b"}).Error()
	id := (&ClashError{Field: "id", Name: "c2", ID: "a", Holder: "c1", HolderID: "a"}).Error()
	for _, want := range []string{`"c1"`, `id "b"`, `"a"`} {
		if !strings.Contains(name, want) {
			t.Errorf("name clash message %q lacks %s", name, want)
		}
	}
	for _, want := range []string{`cluster id "a"`, `cluster "c1"`} {
		if !strings.Contains(id, want) {
			t.Errorf("id clash message %q lacks %s", id, want)
		}
	}
	if !IsClash(&ClashError{}) || IsClash(nil) {
		t.Error("IsClash does not recognize a ClashError")
	}
}
