// Package karmadafixture holds recorded Karmada objects used as test data,
// not Tether's own objects: what a Karmada control plane, karmadactl
// register and karmada-agent wrote for a member in Pull mode, recorded with
// Karmada at commit f8fdd02df on Kubernetes 1.36 (see README.md). The
// member was named member2; Read renames it to a test's cluster.
package karmadafixture

import (
	"embed"
	"encoding/json"
	"regexp"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// The recorded files.
const (
	// HubRBAC is the List of the ClusterRole, Roles and bindings the
	// control plane grants the agent.
	HubRBAC = "hub-rbac-granted-by-karmada.json"
	// MemberObjects is the List of what karmadactl register writes on the
	// member.
	MemberObjects = "member-objects-written-by-karmadactl-register.json"
	// Workload is the Deployment as karmada-agent left it on the member.
	Workload = "workload-applied-by-karmada-agent.json"
	// Work is the Work of that Deployment, with the status karmada-agent wrote.
	Work = "work-written-by-karmada-cp-and-agent.json"
)

// RecordedCluster is the name of the cluster the fixtures were recorded for.
const RecordedCluster = "member2"

//go:embed *.json
var files embed.FS

// recorded matches the recorded cluster's name wherever it stands alone
// (member2, karmada-es-member2, system:karmada:member2:agent...,
// system:karmada:agent:member2, member2-impersonator).
var recorded = regexp.MustCompile(`\b` + RecordedCluster + `\b`)

// Read returns the fixture file name with the recorded cluster renamed to
// cluster.
func Read(t testing.TB, name, cluster string) []byte {
	t.Helper()
	raw, err := files.ReadFile(name)
	if err != nil {
		t.Fatalf("karmada fixture %s: %v", name, err)
	}
	return recorded.ReplaceAll(raw, []byte(cluster))
}

// Items decodes the List fixture name, renamed to cluster, into its items
// by kind, in the order of the List.
func Items(t testing.TB, name, cluster string) map[string][]*unstructured.Unstructured {
	t.Helper()
	var list struct {
		Items []map[string]any `json:"items"`
	}
	decode(t, name, cluster, &list)
	out := map[string][]*unstructured.Unstructured{}
	for i, item := range list.Items {
		u := &unstructured.Unstructured{Object: item}
		if u.GetKind() == "" {
			t.Fatalf("karmada fixture %s: item %d has no kind", name, i)
		}
		out[u.GetKind()] = append(out[u.GetKind()], u)
	}
	return out
}

// Into converts u into the typed object out.
func Into(t testing.TB, u *unstructured.Unstructured, out any) {
	t.Helper()
	raw, err := u.MarshalJSON()
	if err == nil {
		err = json.Unmarshal(raw, out)
	}
	if err != nil {
		t.Fatalf("decode the %s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

// WorkloadObject is the recorded workload, renamed to cluster, as an
// unstructured object (numbers as int64, as from a client).
func WorkloadObject(t testing.TB, cluster string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(Read(t, Workload, cluster)); err != nil {
		t.Fatalf("karmada fixture %s: %v", Workload, err)
	}
	return obj
}

// Deployment is the recorded workload, renamed to cluster.
func Deployment(t testing.TB, cluster string) *appsv1.Deployment {
	t.Helper()
	d := &appsv1.Deployment{}
	decode(t, Workload, cluster, d)
	return d
}

// RecordedWork is the recorded Work, renamed to cluster (so in the
// execution namespace of cluster), with its managedFields and status.
func RecordedWork(t testing.TB, cluster string) *workv1alpha1.Work {
	t.Helper()
	w := &workv1alpha1.Work{}
	decode(t, Work, cluster, w)
	return w
}

// HubRules are the rules of the recorded hub grant, renamed to cluster, by
// the namespace of their Role ("" for the ClusterRole's).
func HubRules(t testing.TB, cluster string) map[string][]rbacv1.PolicyRule {
	t.Helper()
	out := map[string][]rbacv1.PolicyRule{}
	items := Items(t, HubRBAC, cluster)
	for _, u := range items["ClusterRole"] {
		var r rbacv1.ClusterRole
		Into(t, u, &r)
		out[""] = append(out[""], r.Rules...)
	}
	for _, u := range items["Role"] {
		var r rbacv1.Role
		Into(t, u, &r)
		out[r.Namespace] = append(out[r.Namespace], r.Rules...)
	}
	return out
}

// decode unmarshals the fixture file name, renamed to cluster, into out.
func decode(t testing.TB, name, cluster string, out any) {
	t.Helper()
	if err := json.Unmarshal(Read(t, name, cluster), out); err != nil {
		t.Fatalf("karmada fixture %s: %v", name, err)
	}
}
