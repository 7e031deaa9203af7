package dropin

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/test/karmadamember"
	"github.com/tether-io/tether/test/testenv"
)

type marks struct{ member, hub testenv.AuditMark }

func (k *karmadaMember) marks(t *testing.T) marks {
	t.Helper()
	var m marks
	var err error
	if m.member, err = k.Member.AuditMark(); err != nil {
		t.Fatal(err)
	}
	if m.hub, err = k.Env.Hub.AuditMark(); err != nil {
		t.Fatal(err)
	}
	return m
}

func complete(match func(testenv.AuditEvent) bool) func(testenv.AuditEvent) bool {
	return func(e testenv.AuditEvent) bool { return e.Stage == "ResponseComplete" && match(e) }
}

func (k *karmadaMember) memberWrites(t *testing.T, m marks, match func(testenv.AuditEvent) bool) []testenv.AuditEvent {
	t.Helper()
	ev, err := k.Member.AuditEvents(m.member, complete(match))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func (k *karmadaMember) hubWrites(t *testing.T, m marks, match func(testenv.AuditEvent) bool) []testenv.AuditEvent {
	t.Helper()
	ev, err := k.Env.Hub.AuditEvents(m.hub, complete(match))
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// waitsWhileKarmadaAgentHolds checks that the Tether agent, while the
// stand-in renews karmada-agent's hub Lease, reads that Lease again and
// again and writes nothing but its own member leader Lease.
func (k *karmadaMember) waitsWhileKarmadaAgentHolds(t *testing.T, agent *testenv.AgentProcess, m marks) {
	t.Helper()
	user := clusterv1alpha1.AgentUser(k.Name)
	leaseReads := func(e testenv.AuditEvent) bool {
		return e.User == user && e.Resource == "leases" && e.Name == "karmada-agent-"+k.Name && e.Verb == "get"
	}
	notLease := func(e testenv.AuditEvent) bool { return e.User == agentSA && e.IsWrite() && e.Resource != "leases" }
	noWrites := func() {
		if w := k.memberWrites(t, m, notLease); len(w) != 0 {
			t.Fatalf("the Tether agent wrote %d times to the member while karmada-agent held its Lease, first %s %s %s/%s",
				len(w), w[0].Verb, w[0].Resource, w[0].Namespace, w[0].Name)
		}
		if w := k.hubWrites(t, m, testenv.WritesBy(user)); len(w) != 0 {
			t.Fatalf("the Tether agent wrote %d times to the hub while karmada-agent held its Lease, first %s %s %s/%s",
				len(w), w[0].Verb, w[0].Resource, w[0].Namespace, w[0].Name)
		}
	}
	testenv.Eventually(t, 2*time.Minute, "the Tether agent reads karmada-agent's hub Lease three times (its check and two attempts)", func() (bool, error) {
		noWrites()
		if code, done := agent.Exited(); done {
			t.Fatalf("the Tether agent exited with %d while waiting", code)
		}
		return len(k.hubWrites(t, m, leaseReads)) >= 3, nil
	})
	noWrites()
	if log, _ := os.ReadFile(agent.Log); !strings.Contains(string(log), "Waiting for karmada-agent's Lease on the hub") {
		t.Error("the agent did not log that it waits for karmada-agent's hub Lease")
	}
	if h := holderOf(hubLease(t, k.HubClient, k.Name)); h != "karmada-agent-standin_"+k.Name {
		t.Errorf("the hub Lease is held by %q while the stand-in renews it", h)
	}
}

// checkMemberLeaseOwner: the Tether agent's member leader Lease is owned
// by the agent's Deployment, so that deleting the Deployment removes it.
func (k *karmadaMember) checkMemberLeaseOwner(t *testing.T, d interface{ GetUID() types.UID }) {
	t.Helper()
	l, err := k.MemberClient.CoordinationV1().Leases(karmadamember.Namespace).Get(context.Background(), "karmada-agent-"+k.Name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the Tether agent's member Lease: %v", err)
	}
	for _, r := range l.OwnerReferences {
		if r.Kind == "Deployment" && r.Name == "karmada-agent" && r.UID == d.GetUID() && r.APIVersion == "apps/v1" {
			return
		}
	}
	t.Errorf("the member Lease's owner references are %+v, want the Deployment karmada-agent (uid %s)", l.OwnerReferences, d.GetUID())
}

// checkUnregisterRemovesMemberLease deletes the agent Deployment as
// karmadactl unregister does; garbage collection removes the Lease.
func (k *karmadaMember) checkUnregisterRemovesMemberLease(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if err := k.MemberClient.AppsV1().Deployments(karmadamember.Namespace).Delete(ctx, "karmada-agent", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Minute, "the member Lease is garbage-collected with the agent Deployment", func() (bool, error) {
		_, err := k.MemberClient.CoordinationV1().Leases(karmadamember.Namespace).Get(ctx, "karmada-agent-"+k.Name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}
