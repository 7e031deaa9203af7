package hubaccess

import (
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

var allTasks = Needs{Works: true, ClusterStatus: true, Rotation: true, RenderAlways: true}.Tasks()

func TestEveryPermissionIsDeclared(t *testing.T) {
	for _, p := range Permissions() {
		s := specs[p]
		if s.resource == "" || s.verb == "" {
			t.Errorf("permission %d has no resource or verb", p)
		}
	}
	if got := ClusterStatusPatch.String(); got != "patch clusters/status" {
		t.Errorf("ClusterStatusPatch = %q", got)
	}
	if got := Permission(-1).String(); got != "unknown permission" {
		t.Errorf("Permission(-1) = %q", got)
	}
}

func TestAttributes(t *testing.T) {
	a := ClusterList.attributes("m1")
	if a.Name != "m1" || a.Namespace != "" || a.Verb != "list" || a.Group != clusterv1alpha1.GroupName {
		t.Errorf("named list of clusters: %+v", a)
	}
	if a := WorkPatch.attributes("m1"); a.Namespace != "karmada-es-m1" || a.Name != "" {
		t.Errorf("patch works: %+v", a)
	}
	if a := LeaseCreate.attributes("m1"); a.Namespace != clusterv1alpha1.LeaseNamespace || a.Name != "" {
		t.Errorf("create leases: %+v", a)
	}
	if a := LeaseUpdate.attributes("m1"); a.Name != "m1" {
		t.Errorf("update leases: %+v", a)
	}
}

func TestZeroSetHoldsEverything(t *testing.T) {
	var s Set
	if len(s.Denied()) != 0 || !s.CanReadPolicies() {
		t.Fatal("the zero Set must hold every permission")
	}
	r := Assess("m1", s, allTasks)
	if len(r.Missing) != 0 || len(r.Fallbacks) != 0 {
		t.Fatalf("zero Set: %+v", r)
	}
	if c := r.Condition(); c.Status != metav1.ConditionFalse || c.Reason != clusterv1alpha1.ReasonHubPermissionsSufficient {
		t.Fatalf("condition %+v", c)
	}
}

// karmadaDenied is what a Karmada control plane does not grant its agent,
// among the permissions Tether uses.
var karmadaDenied = []Permission{ClusterUpdate, ClusterPatch, ClusterStatusPatch, WorkPatch,
	OverridePolicyList, OverridePolicyWatch, ClusterOverridePolicyList, ClusterOverridePolicyWatch}

func TestAssessKarmadaGrant(t *testing.T) {
	s := Without(karmadaDenied...)
	auto := Needs{Works: true, ClusterStatus: true, Rotation: true}.Tasks()
	r := Assess("m1", s, auto)
	if len(r.Missing) != 0 {
		t.Fatalf("with Auto rendering nothing is missing, got %+v", r.Missing)
	}
	var ids []string
	for _, f := range r.Fallbacks {
		ids = append(ids, f.Task.ID)
	}
	if got := strings.Join(ids, ","); got != "work-finalizer,cluster-status" {
		t.Fatalf("fallbacks %s", got)
	}
	if s.CanReadPolicies() {
		t.Fatal("policies are not readable")
	}
	c := r.Condition()
	if c.Status != metav1.ConditionFalse || !strings.Contains(c.Message, "update works and get works to add and remove the finalizer") ||
		!strings.Contains(c.Message, "update clusters/status and get clusters to write the status of its Cluster") {
		t.Fatalf("condition %+v", c)
	}

	always := Assess("m1", s, allTasks)
	if len(always.Missing) != 1 || always.Missing[0].Task.ID != ReadPolicies.ID {
		t.Fatalf("with Always the policies are missing, got %+v", always.Missing)
	}
}

func TestConditionNamesVerbAndCommand(t *testing.T) {
	r := Assess("m1", Without(ClusterStatusPatch, ClusterStatusUpdate, LeaseCreate), allTasks)
	if len(r.Missing) != 2 {
		t.Fatalf("missing %+v", r.Missing)
	}
	r.AddMissing(UpdateClusterSpec, "spec fields apiEndpoint differ")
	c := r.Condition()
	if c.Type != clusterv1alpha1.ClusterConditionHubPermissionsMissing || c.Status != metav1.ConditionTrue || c.Reason != clusterv1alpha1.ReasonHubPermissionsMissing {
		t.Fatalf("condition %+v", c)
	}
	for _, want := range []string{
		"system:karmada:agent:m1 cannot write the status of its Cluster (needs patch clusters/status, or update clusters/status and get clusters)",
		"kubectl create clusterrole tether:agent:m1:cluster-status --verb=patch --resource=clusters.cluster.karmada.io/status --resource-name=m1 && " +
			"kubectl create clusterrolebinding tether:agent:m1:cluster-status --clusterrole=tether:agent:m1:cluster-status --user=system:karmada:agent:m1",
		"kubectl create role tether:agent:m1:lease -n karmada-cluster --verb=get,update --resource=leases.coordination.k8s.io --resource-name=m1 && " +
			"kubectl create rolebinding tether:agent:m1:lease -n karmada-cluster --role=tether:agent:m1:lease --user=system:karmada:agent:m1",
		"kubectl create role tether:agent:m1:lease-2 -n karmada-cluster --verb=create --resource=leases.coordination.k8s.io && ",
		"so the Cluster keeps the spec fields it has (spec fields apiEndpoint differ)",
		"kubectl create clusterrole tether:agent:m1:cluster-spec --verb=patch --resource=clusters.cluster.karmada.io --resource-name=m1",
	} {
		if !strings.Contains(c.Message, want) {
			t.Errorf("the message lacks %q:\n%s", want, c.Message)
		}
	}
}

func TestPolicyGrantIsClusterWide(t *testing.T) {
	cmds := grantCommands("m1", ReadPolicies)
	want := "kubectl create clusterrole tether:agent:m1:policies --verb=list,watch " +
		"--resource=overridepolicies.policy.karmada.io,clusteroverridepolicies.policy.karmada.io && " +
		"kubectl create clusterrolebinding tether:agent:m1:policies --clusterrole=tether:agent:m1:policies --user=system:karmada:agent:m1"
	if len(cmds) != 1 || cmds[0] != want {
		t.Fatalf("got %q", cmds)
	}
	ev := grantCommands("m1", PostEvents)
	if len(ev) != 1 || !strings.Contains(ev[0], "create role tether:agent:m1:events -n karmada-es-m1 --verb=create,patch --resource=events ") {
		t.Fatalf("events grant %q", ev)
	}
}

func TestNeeds(t *testing.T) {
	if got := len(Needs{}.Tasks()); got != 0 {
		t.Fatalf("no controllers, %d tasks", got)
	}
	for _, task := range (Needs{Works: true}).Tasks() {
		if task.ID == ReadPolicies.ID {
			t.Fatal("policies are needed only with RenderAlways")
		}
	}
}
