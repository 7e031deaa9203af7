package leader

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	coordinationv1client "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/klog/v2"
)

// The agent's pod, from the downward API when the Deployment sets these
// variables; otherwise the hostname and the service account's namespace.
const (
	PodNameEnv      = "POD_NAME"
	PodNamespaceEnv = "POD_NAMESPACE"
)

// serviceAccountNamespaceFile is present in every pod that mounts its
// service account token; outside a pod it is absent.
var serviceAccountNamespaceFile = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"

// thisPod is the pod the agent runs in; ok is false outside a pod.
func thisPod() (pod types.NamespacedName, ok bool) {
	pod.Name, pod.Namespace = os.Getenv(PodNameEnv), os.Getenv(PodNamespaceEnv)
	if pod.Namespace == "" {
		raw, err := os.ReadFile(serviceAccountNamespaceFile)
		if err != nil {
			return pod, false
		}
		pod.Namespace = strings.TrimSpace(string(raw))
	}
	if pod.Name == "" {
		pod.Name, _ = os.Hostname()
	}
	return pod, pod.Name != "" && pod.Namespace != ""
}

// leaseOwner is the Deployment that runs the agent's pod (pod ->
// ReplicaSet -> Deployment), as an owner reference for the leader Lease,
// so that deleting the agent's Deployment (karmadactl unregister does)
// garbage-collects the Lease. It is nil outside a pod, or when the pod is
// not a Deployment's; a failed lookup is logged and yields nil.
func leaseOwner(ctx context.Context, cs kubernetes.Interface, pod types.NamespacedName) *metav1.OwnerReference {
	if pod.Name == "" {
		return nil
	}
	owner, err := deploymentOf(ctx, cs, pod)
	if err != nil {
		klog.FromContext(ctx).Info("Cannot find the agent's Deployment; the leader Lease gets no owner and outlives it", "pod", pod.String(), "err", err)
		return nil
	}
	return owner
}

func deploymentOf(ctx context.Context, cs kubernetes.Interface, pod types.NamespacedName) (*metav1.OwnerReference, error) {
	p, err := cs.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", pod, err)
	}
	rsRef := metav1.GetControllerOf(p)
	if rsRef == nil || rsRef.Kind != "ReplicaSet" {
		return nil, fmt.Errorf("pod %s is not run by a ReplicaSet", pod)
	}
	rs, err := cs.AppsV1().ReplicaSets(pod.Namespace).Get(ctx, rsRef.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("ReplicaSet %s/%s: %w", pod.Namespace, rsRef.Name, err)
	}
	dRef := metav1.GetControllerOf(rs)
	if dRef == nil || dRef.Kind != "Deployment" {
		return nil, fmt.Errorf("ReplicaSet %s/%s is not run by a Deployment", pod.Namespace, rs.Name)
	}
	return &metav1.OwnerReference{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "Deployment", Name: dRef.Name, UID: dRef.UID}, nil
}

// ownedLeases gives the leader Lease its owner: on create, and on every
// update of a Lease that lacks it (one created by an earlier version). A
// create is refused once the owner is gone, so that an agent being
// uninstalled does not re-create the Lease its Deployment's deletion just
// collected. The owner must be in the Lease's namespace (an owner
// reference names no namespace); in another one the Lease gets none.
type ownedLeases struct {
	coordinationv1client.LeasesGetter
	apps    kubernetes.Interface
	owner   *metav1.OwnerReference
	ownerNS string
}

func (o ownedLeases) Leases(namespace string) coordinationv1client.LeaseInterface {
	inner := o.LeasesGetter.Leases(namespace)
	if o.owner == nil || namespace != o.ownerNS {
		return inner
	}
	return ownedLeaseClient{LeaseInterface: inner, o: o}
}

type ownedLeaseClient struct {
	coordinationv1client.LeaseInterface
	o ownedLeases
}

func (c ownedLeaseClient) Create(ctx context.Context, lease *coordinationv1.Lease, opts metav1.CreateOptions) (*coordinationv1.Lease, error) {
	d, err := c.o.apps.AppsV1().Deployments(c.o.ownerNS).Get(ctx, c.o.owner.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) || (err == nil && d.UID != c.o.owner.UID) {
		return nil, fmt.Errorf("not creating the leader Lease %s/%s: the agent's Deployment %s/%s is gone (the agent is being removed)",
			lease.Namespace, lease.Name, c.o.ownerNS, c.o.owner.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("not creating the leader Lease %s/%s yet: read its owner, Deployment %s/%s: %w",
			lease.Namespace, lease.Name, c.o.ownerNS, c.o.owner.Name, err)
	}
	return c.LeaseInterface.Create(ctx, withOwner(lease, *c.o.owner), opts)
}

func (c ownedLeaseClient) Update(ctx context.Context, lease *coordinationv1.Lease, opts metav1.UpdateOptions) (*coordinationv1.Lease, error) {
	return c.LeaseInterface.Update(ctx, withOwner(lease, *c.o.owner), opts)
}

// withOwner returns lease with owner among its owner references.
func withOwner(lease *coordinationv1.Lease, owner metav1.OwnerReference) *coordinationv1.Lease {
	if slices.ContainsFunc(lease.OwnerReferences, func(r metav1.OwnerReference) bool { return r.UID == owner.UID }) {
		return lease
	}
	lease = lease.DeepCopy()
	lease.OwnerReferences = append(lease.OwnerReferences, owner)
	return lease
}
