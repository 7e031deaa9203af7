package capacity

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	resourcehelper "k8s.io/component-helpers/resource"
)

// Node is the part of a Node the arithmetic reads. Its ObjectMeta keeps only
// the name and resourceVersion, which a cache needs.
type Node struct {
	metav1.ObjectMeta
	// Ready is the Ready condition being True.
	Ready bool
	// Cordoned is spec.unschedulable.
	Cordoned bool
	// Allocatable is status.allocatable.
	Allocatable Resources
}

// Pod is the part of a Pod the arithmetic reads. Its ObjectMeta keeps only
// the namespace, name and resourceVersion.
type Pod struct {
	metav1.ObjectMeta
	// NodeName is spec.nodeName; empty while the pod waits for a node.
	NodeName string
	// Terminating is a deletionTimestamp being set.
	Terminating bool
	// Finished is phase Succeeded or Failed.
	Finished bool
	// Requests is the pod's effective request (see PodRequests); Pods is 0.
	Requests Resources
}

// usesResources reports whether the pod holds resources on its node or in
// the scheduling queue.
func (p *Pod) usesResources() bool { return !p.Terminating && !p.Finished }

// usable reports whether the node can take new pods.
func (n *Node) usable() bool { return n.Ready && !n.Cordoned }

// NodeOf reduces a Node to what the arithmetic reads.
func NodeOf(n *corev1.Node) *Node {
	out := &Node{
		ObjectMeta:  metav1.ObjectMeta{Name: n.Name, ResourceVersion: n.ResourceVersion},
		Cordoned:    n.Spec.Unschedulable,
		Allocatable: FromList(n.Status.Allocatable),
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			out.Ready = c.Status == corev1.ConditionTrue
		}
	}
	return out
}

// PodOf reduces a Pod to what the arithmetic reads.
func PodOf(p *corev1.Pod) *Pod {
	return &Pod{
		ObjectMeta:  metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name, ResourceVersion: p.ResourceVersion},
		NodeName:    p.Spec.NodeName,
		Terminating: p.DeletionTimestamp != nil,
		Finished:    p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed,
		Requests:    PodRequests(p),
	}
}

// PodRequests is the pod's effective request as the scheduler accounts it:
// containers, init containers and sidecars per KEP-753, pod-level requests,
// in-place resizes (the larger of spec and status) and overhead.
func PodRequests(p *corev1.Pod) Resources {
	return FromList(resourcehelper.PodRequests(p, resourcehelper.PodResourcesOptions{UseStatusResources: true}))
}

// DeepCopyObject implements runtime.Object, so a Node can sit in an
// informer's store.
func (n *Node) DeepCopyObject() runtime.Object {
	out := *n
	n.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.Allocatable = n.Allocatable.Clone()
	return &out
}

// GetObjectKind implements runtime.Object; a Node has no type metadata.
func (n *Node) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }

// DeepCopyObject implements runtime.Object, so a Pod can sit in an
// informer's store.
func (p *Pod) DeepCopyObject() runtime.Object {
	out := *p
	p.ObjectMeta.DeepCopyInto(&out.ObjectMeta)
	out.Requests = p.Requests.Clone()
	return &out
}

// GetObjectKind implements runtime.Object; a Pod has no type metadata.
func (p *Pod) GetObjectKind() schema.ObjectKind { return schema.EmptyObjectKind }
