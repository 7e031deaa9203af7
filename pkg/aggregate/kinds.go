package aggregate

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// aggregator computes a kind's aggregated status from the clusters' items
// (sorted by cluster) and one of the manifests (the template: Karmada reads
// the resource template; a plain hub has only the manifests). nil means no
// aggregated status. Items without a status are skipped in sums but still
// count where Karmada counts them (len(items)).
type aggregator func(template *unstructured.Unstructured, items []Item) (any, error)

var (
	deploymentGVK  = appsv1.SchemeGroupVersion.WithKind("Deployment")
	replicaSetGVK  = appsv1.SchemeGroupVersion.WithKind("ReplicaSet")
	daemonSetGVK   = appsv1.SchemeGroupVersion.WithKind("DaemonSet")
	statefulSetGVK = appsv1.SchemeGroupVersion.WithKind("StatefulSet")
)

// aggregators is the per-kind table: the kinds whose status Karmada's control
// plane aggregates natively (docs/karmada-compatibility.md, "Aggregation on a
// plain hub"). A kind that is not in it has no aggregated status.
var aggregators = map[schema.GroupVersionKind]aggregator{
	deploymentGVK:  sum("replicas", "readyReplicas", "updatedReplicas", "availableReplicas", "unavailableReplicas"),
	replicaSetGVK:  sum("replicas", "readyReplicas", "availableReplicas"),
	daemonSetGVK:   sum("currentNumberScheduled", "desiredNumberScheduled", "numberAvailable", "numberMisscheduled", "numberReady", "updatedNumberScheduled", "numberUnavailable"),
	statefulSetGVK: sum("availableReplicas", "currentReplicas", "readyReplicas", "replicas", "updatedReplicas"),
	autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"): sum("currentReplicas", "desiredReplicas"),
	policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"):          podDisruptionBudget,
	corev1.SchemeGroupVersion.WithKind("Service"):                        service,
	networkingv1.SchemeGroupVersion.WithKind("Ingress"):                  loadBalancerIngress,
	batchv1.SchemeGroupVersion.WithKind("Job"):                           job,
	batchv1.SchemeGroupVersion.WithKind("CronJob"):                       cronJob,
	corev1.SchemeGroupVersion.WithKind("Pod"):                            pod,
	corev1.SchemeGroupVersion.WithKind("PersistentVolume"):               persistentVolume,
	corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"):          persistentVolumeClaim,
}

// sum adds up the integer fields across clusters; every field is present
// in the result, zeros included.
func sum(fields ...string) aggregator {
	return func(_ *unstructured.Unstructured, items []Item) (any, error) {
		total := make(map[string]int64, len(fields))
		for _, f := range fields {
			total[f] = 0
		}
		for _, it := range items {
			c, err := counters(it.Status, fields...)
			if err != nil {
				return nil, clusterError(it, err)
			}
			for f, n := range c {
				total[f] += n
			}
		}
		return total, nil
	}
}

// counters reads integer fields of a reflected status; a missing field (or
// a nil status) is zero, as Go's decoder leaves it in Karmada.
func counters(status *runtime.RawExtension, fields ...string) (map[string]int64, error) {
	out := make(map[string]int64, len(fields))
	if status == nil {
		return out, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(status.Raw, &m); err != nil {
		return nil, fmt.Errorf("status is not an object: %w", err)
	}
	for _, f := range fields {
		raw, ok := m[f]
		if !ok || string(raw) == "null" {
			continue
		}
		var n int64
		if err := json.Unmarshal(raw, &n); err != nil {
			return nil, fmt.Errorf("status.%s is %s, not an integer", f, raw)
		}
		out[f] = n
	}
	return out, nil
}

// decode reads an item's reflected status into the kind's status type;
// false when the cluster reported none.
func decode(it Item, into any) (bool, error) {
	if it.Status == nil {
		return false, nil
	}
	if err := json.Unmarshal(it.Status.Raw, into); err != nil {
		return false, clusterError(it, err)
	}
	return true, nil
}

func clusterError(it Item, err error) error {
	return fmt.Errorf("status reported by cluster %s (Work %s): %w", it.ClusterName, it.Work, err)
}

// replicasOf counts ready against desired replicas for the workload kinds;
// nil for the others. A malformed status counts as nothing ready: the
// kind's aggregator reports it.
func replicasOf(manifest *unstructured.Unstructured, status *runtime.RawExtension) (*Replicas, error) {
	switch manifest.GroupVersionKind() {
	case deploymentGVK, statefulSetGVK, replicaSetGVK:
		c, _ := counters(status, "readyReplicas")
		desired, found, err := unstructured.NestedInt64(manifest.Object, "spec", "replicas")
		if err != nil {
			return &Replicas{Ready: c["readyReplicas"]}, fmt.Errorf("manifest spec.replicas: %w", err)
		}
		if !found {
			desired = 1
		}
		return &Replicas{Ready: c["readyReplicas"], Desired: desired}, nil
	case daemonSetGVK:
		c, _ := counters(status, "numberReady", "desiredNumberScheduled")
		return &Replicas{Ready: c["numberReady"], Desired: c["desiredNumberScheduled"]}, nil
	}
	return nil, nil
}

// pdbStatus is the aggregated PodDisruptionBudget status.
type pdbStatus struct {
	CurrentHealthy     int32                  `json:"currentHealthy"`
	DesiredHealthy     int32                  `json:"desiredHealthy"`
	ExpectedPods       int32                  `json:"expectedPods"`
	DisruptionsAllowed int32                  `json:"disruptionsAllowed"`
	DisruptedPods      map[string]metav1.Time `json:"disruptedPods,omitempty"`
}

// podDisruptionBudget sums the four counters and keeps every cluster's
// disrupted pods under "<cluster>/<pod>".
func podDisruptionBudget(_ *unstructured.Unstructured, items []Item) (any, error) {
	out := pdbStatus{}
	for _, it := range items {
		var s policyv1.PodDisruptionBudgetStatus
		if _, err := decode(it, &s); err != nil {
			return nil, err
		}
		out.CurrentHealthy += s.CurrentHealthy
		out.DesiredHealthy += s.DesiredHealthy
		out.ExpectedPods += s.ExpectedPods
		out.DisruptionsAllowed += s.DisruptionsAllowed
		for name, t := range s.DisruptedPods {
			if out.DisruptedPods == nil {
				out.DisruptedPods = map[string]metav1.Time{}
			}
			out.DisruptedPods[it.ClusterName+"/"+name] = t
		}
	}
	return out, nil
}
