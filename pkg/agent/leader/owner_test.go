package leader

import (
	"context"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/utils/ptr"
)

// The owner lookup and the Lease client over in-memory objects (pure
// logic); test/e2e/dropin checks the owner reference on a real member and
// that garbage collection removes the Lease with the Deployment.

func agentPod() *fake.Clientset {
	ctrl := func(kind, name string, uid types.UID) []metav1.OwnerReference {
		return []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: kind, Name: name, UID: uid, Controller: ptr.To(true)}}
	}
	return fake.NewClientset(
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Namespace: "karmada-system", Name: "karmada-agent", UID: "d-uid"}},
		&appsv1.ReplicaSet{ObjectMeta: metav1.ObjectMeta{Namespace: "karmada-system", Name: "karmada-agent-5d8f",
			OwnerReferences: ctrl("Deployment", "karmada-agent", "d-uid")}},
		&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Namespace: "karmada-system", Name: "karmada-agent-5d8f-x2k",
			OwnerReferences: ctrl("ReplicaSet", "karmada-agent-5d8f", "rs-uid")}},
	)
}

func TestLeaseOwnerIsTheAgentsDeployment(t *testing.T) {
	cs := agentPod()
	owner := leaseOwner(context.Background(), cs, types.NamespacedName{Namespace: "karmada-system", Name: "karmada-agent-5d8f-x2k"})
	if owner == nil || owner.Kind != "Deployment" || owner.Name != "karmada-agent" || owner.UID != "d-uid" || owner.APIVersion != "apps/v1" {
		t.Fatalf("owner %+v, want Deployment karmada-agent", owner)
	}
	if o := leaseOwner(context.Background(), cs, types.NamespacedName{Namespace: "karmada-system", Name: "my-laptop"}); o != nil {
		t.Errorf("outside a pod the owner is %+v, want none", o)
	}
}

func TestOwnedLeasesCreateAndUpdateCarryTheOwner(t *testing.T) {
	cs := agentPod()
	owner := leaseOwner(context.Background(), cs, types.NamespacedName{Namespace: "karmada-system", Name: "karmada-agent-5d8f-x2k"})
	leases := ownedLeases{LeasesGetter: cs.CoordinationV1(), apps: cs, owner: owner, ownerNS: "karmada-system"}.Leases("karmada-system")
	l, err := leases.Create(context.Background(), &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "karmada-system", Name: "karmada-agent-m1"}}, metav1.CreateOptions{})
	if err != nil || len(l.OwnerReferences) != 1 || l.OwnerReferences[0].UID != "d-uid" {
		t.Fatalf("created %+v, %v", l, err)
	}
	l.OwnerReferences = nil // a Lease an earlier version created
	if l, err = leases.Update(context.Background(), l, metav1.UpdateOptions{}); err != nil || len(l.OwnerReferences) != 1 {
		t.Fatalf("updated %+v, %v", l, err)
	}
	if l, err = leases.Update(context.Background(), l, metav1.UpdateOptions{}); err != nil || len(l.OwnerReferences) != 1 {
		t.Fatalf("an update added the owner twice: %+v, %v", l.OwnerReferences, err)
	}
}

// Once the Deployment is deleted (karmadactl unregister), garbage collection
// removes the Lease; the agent, still shutting down, must not create it again.
func TestOwnedLeasesRefuseToRecreateOnceTheDeploymentIsGone(t *testing.T) {
	cs := agentPod()
	owner := leaseOwner(context.Background(), cs, types.NamespacedName{Namespace: "karmada-system", Name: "karmada-agent-5d8f-x2k"})
	if err := cs.AppsV1().Deployments("karmada-system").Delete(context.Background(), "karmada-agent", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	leases := ownedLeases{LeasesGetter: cs.CoordinationV1(), apps: cs, owner: owner, ownerNS: "karmada-system"}.Leases("karmada-system")
	_, err := leases.Create(context.Background(), &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Namespace: "karmada-system", Name: "karmada-agent-m1"}}, metav1.CreateOptions{})
	if err == nil || !strings.Contains(err.Error(), "is gone") {
		t.Fatalf("create after the Deployment's deletion: %v", err)
	}
	if list, _ := cs.CoordinationV1().Leases("karmada-system").List(context.Background(), metav1.ListOptions{}); len(list.Items) != 0 {
		t.Errorf("%d Leases exist", len(list.Items))
	}
}
