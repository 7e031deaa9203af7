package cluster

import (
	"context"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// heartbeatOnHub creates Cluster name on the real hub (with the given
// finalizers) and runs a Heartbeat for it, renewing every second, until
// the test ends. It returns once the Lease exists.
func heartbeatOnHub(t *testing.T, name string, finalizers ...string) (kubernetes.Interface, versioned.Interface, *clusterv1alpha1.Cluster) {
	t.Helper()
	env := testenv.Require(t)
	ctx := context.Background()
	kube, karmada := kubernetes.NewForConfigOrDie(env.Hub.Config), versioned.NewForConfigOrDie(env.Hub.Config)
	_, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: clusterv1alpha1.LeaseNamespace}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	c, err := karmada.ClusterV1alpha1().Clusters().Create(ctx, &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name, Finalizers: finalizers},
		Spec: clusterv1alpha1.ClusterSpec{SyncMode: clusterv1alpha1.Pull}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hb, err := NewHeartbeat(HeartbeatConfig{Hub: kube, Clusters: karmada.ClusterV1alpha1().Clusters(), ClusterName: name, ClusterUID: c.UID,
		LeaseDuration: 2 * time.Second, RenewFraction: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); hb.Run(runCtx) }()
	t.Cleanup(func() { cancel(); <-done })
	testenv.Eventually(t, 30*time.Second, "the Lease written, owned by the Cluster", func() (bool, error) {
		l, err := kube.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		return ownerIs(l, name, c.UID), nil
	})
	return kube, karmada, c
}

// ownerIs reports whether the Lease's only owner is the Cluster, as
// karmada-agent sets it: no controller flag.
func ownerIs(l *coordinationv1.Lease, name string, uid types.UID) bool {
	if len(l.OwnerReferences) != 1 {
		return false
	}
	r := l.OwnerReferences[0]
	return r.APIVersion == "cluster.karmada.io/v1alpha1" && r.Kind == "Cluster" && r.Name == name && r.UID == uid && r.Controller == nil
}

// staysAbsent watches the Lease for several renew intervals and fails if
// it is created again.
func staysAbsent(t *testing.T, kube kubernetes.Interface, name string, window time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), window)
	defer cancel()
	leases := kube.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace)
	list, err := leases.List(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 0 {
		t.Fatalf("the Lease %s exists", name)
	}
	w, err := leases.Watch(ctx, metav1.ListOptions{FieldSelector: "metadata.name=" + name, ResourceVersion: list.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	for {
		select {
		case <-ctx.Done():
			return // the window passed without the Lease
		case ev, ok := <-w.ResultChan():
			if !ok {
				if ctx.Err() == nil {
					t.Fatal("the watch of the Lease ended early")
				}
				return
			}
			if ev.Type == watch.Added || ev.Type == watch.Modified {
				t.Fatalf("the heartbeat wrote the Lease of a deleted Cluster again (%s)", ev.Type)
			}
		}
	}
}

// Once its Cluster is deleted, the hub's garbage collector deletes the
// Lease (it is owned by the Cluster) and the heartbeat does not create it
// again, over several renew intervals.
func TestHeartbeatLeaseGoesWithTheCluster(t *testing.T) {
	const name = "hb-deleted"
	kube, karmada, _ := heartbeatOnHub(t, name)
	ctx := context.Background()
	if err := karmada.ClusterV1alpha1().Clusters().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Minute, "the Lease garbage-collected with its Cluster", func() (bool, error) {
		_, err := kube.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	staysAbsent(t, kube, name, 8*time.Second) // eight renew intervals
}

// While its Cluster is being deleted (held by a finalizer), a Lease that
// is deleted is not created again.
func TestHeartbeatCreatesNoLeaseForATerminatingCluster(t *testing.T) {
	const name, finalizer = "hb-terminating", "test.tether.io/hold"
	kube, karmada, _ := heartbeatOnHub(t, name, finalizer)
	ctx := context.Background()
	t.Cleanup(func() {
		_, _ = karmada.ClusterV1alpha1().Clusters().Patch(context.Background(), name, types.MergePatchType, []byte(`{"metadata":{"finalizers":null}}`), metav1.PatchOptions{})
	})
	if err := karmada.ClusterV1alpha1().Clusters().Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := kube.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	staysAbsent(t, kube, name, 8*time.Second)
}
