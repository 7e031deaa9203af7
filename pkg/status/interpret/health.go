package interpret

import (
	kstatus "github.com/fluxcd/cli-utils/pkg/kstatus/status"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

const (
	healthy   = workv1alpha1.ResourceHealthy
	unhealthy = workv1alpha1.ResourceUnhealthy
	unknown   = workv1alpha1.ResourceUnknown
)

// healthRule judges one kind. Rules return Unknown when the object cannot be
// read as its kind.
type healthRule func(obj *unstructured.Unstructured) workv1alpha1.ResourceHealth

// healthRules is the per-kind table of Health. The first nine are Karmada's
// native rules; the rest replace a guessed Healthy with a real rule.
var healthRules = map[schema.GroupVersionKind]healthRule{
	appsv1.SchemeGroupVersion.WithKind("Deployment"):                                 typed(deploymentHealth),
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"):                                typed(statefulSetHealth),
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"):                                 typed(replicaSetHealth),
	appsv1.SchemeGroupVersion.WithKind("DaemonSet"):                                  typed(daemonSetHealth),
	corev1.SchemeGroupVersion.WithKind("Service"):                                    typed(serviceHealth),
	networkingv1.SchemeGroupVersion.WithKind("Ingress"):                              typed(ingressHealth),
	corev1.SchemeGroupVersion.WithKind("PersistentVolumeClaim"):                      typed(pvcHealth),
	corev1.SchemeGroupVersion.WithKind("Pod"):                                        typed(podHealth),
	policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"):                      typed(pdbHealth),
	batchv1.SchemeGroupVersion.WithKind("Job"):                                       typed(jobHealth),
	batchv1.SchemeGroupVersion.WithKind("CronJob"):                                   existsHealth,
	corev1.SchemeGroupVersion.WithKind("ResourceQuota"):                              existsHealth,
	corev1.SchemeGroupVersion.WithKind("Namespace"):                                  typed(namespaceHealth),
	corev1.SchemeGroupVersion.WithKind("PersistentVolume"):                           typed(pvHealth),
	autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"):             typed(hpaHealth),
	{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}: kstatusHealth,
}

// Health judges obj, a live member object:
//
//   - a kind with a rule in the table gets that rule's verdict;
//   - an object without a status (or with an empty one) is Healthy: it
//     exists, and nothing more is promised for it;
//   - an object whose status has kstatus-standard conditions (Ready,
//     Reconciling, Stalled) gets the kstatus verdict: Current is Healthy,
//     InProgress, Failed and Terminating are Unhealthy;
//   - anything else is Unknown.
func Health(obj *unstructured.Unstructured) workv1alpha1.ResourceHealth {
	if rule, ok := healthRules[obj.GroupVersionKind()]; ok {
		return rule(obj)
	}
	status, found, err := unstructured.NestedMap(obj.Object, "status")
	switch {
	case err != nil:
		return unknown
	case !found || len(status) == 0:
		return healthy
	case hasStandardCondition(status):
		return kstatusHealth(obj)
	default:
		return unknown
	}
}

// typed adapts a rule over a typed object to the table.
func typed[T any, PT interface {
	*T
	runtime.Object
}](rule func(PT) workv1alpha1.ResourceHealth) healthRule {
	return func(obj *unstructured.Unstructured) workv1alpha1.ResourceHealth {
		out := PT(new(T))
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, out); err != nil {
			return unknown
		}
		return rule(out)
	}
}

func verdict(ok bool) workv1alpha1.ResourceHealth {
	if ok {
		return healthy
	}
	return unhealthy
}

// existsHealth is for kinds whose status only reports activity (CronJob)
// or usage (ResourceQuota): existing is all they promise.
func existsHealth(*unstructured.Unstructured) workv1alpha1.ResourceHealth { return healthy }

// kstatusHealth maps the kstatus verdict onto Karmada's three values.
func kstatusHealth(obj *unstructured.Unstructured) workv1alpha1.ResourceHealth {
	res, err := kstatus.Compute(obj)
	if err != nil {
		return unknown
	}
	switch res.Status {
	case kstatus.CurrentStatus:
		return healthy
	case kstatus.InProgressStatus, kstatus.FailedStatus, kstatus.TerminatingStatus:
		return unhealthy
	default:
		return unknown
	}
}

// hasStandardCondition reports whether status has a condition kstatus reads
// without a kind-specific rule. Without one, kstatus assumes an object is
// Current, which is a guess Tether does not make.
func hasStandardCondition(status map[string]any) bool {
	conditions, _, _ := unstructured.NestedSlice(status, "conditions")
	for _, c := range conditions {
		m, ok := c.(map[string]any)
		if !ok {
			continue
		}
		switch m["type"] {
		case "Ready", string(kstatus.ConditionReconciling), string(kstatus.ConditionStalled):
			return true
		}
	}
	return false
}

func deploymentHealth(d *appsv1.Deployment) workv1alpha1.ResourceHealth {
	s := d.Status
	return verdict(s.ObservedGeneration == d.Generation &&
		(d.Spec.Replicas == nil || s.UpdatedReplicas >= *d.Spec.Replicas) &&
		s.AvailableReplicas >= s.UpdatedReplicas)
}

// statefulSetHealth is the Deployment rule, except that a partitioned
// rolling update is complete once the pods at or above the partition are
// updated, while every pod must still be available (kubectl rollout status).
func statefulSetHealth(sts *appsv1.StatefulSet) workv1alpha1.ResourceHealth {
	s := sts.Status
	if s.ObservedGeneration != sts.Generation {
		return unhealthy
	}
	if r := sts.Spec.Replicas; r != nil {
		wantUpdated := *r
		if ru := sts.Spec.UpdateStrategy.RollingUpdate; ru != nil && ru.Partition != nil {
			wantUpdated -= *ru.Partition
		}
		if s.UpdatedReplicas < wantUpdated || s.AvailableReplicas < *r {
			return unhealthy
		}
	}
	return verdict(s.AvailableReplicas >= s.UpdatedReplicas)
}

func replicaSetHealth(rs *appsv1.ReplicaSet) workv1alpha1.ResourceHealth {
	return verdict(rs.Status.ObservedGeneration == rs.Generation &&
		(rs.Spec.Replicas == nil || rs.Status.AvailableReplicas >= *rs.Spec.Replicas))
}

func daemonSetHealth(ds *appsv1.DaemonSet) workv1alpha1.ResourceHealth {
	s := ds.Status
	return verdict(s.ObservedGeneration == ds.Generation &&
		s.UpdatedNumberScheduled >= s.DesiredNumberScheduled &&
		s.NumberAvailable >= s.UpdatedNumberScheduled)
}

func serviceHealth(svc *corev1.Service) workv1alpha1.ResourceHealth {
	if svc.Spec.Type != corev1.ServiceTypeLoadBalancer {
		return healthy
	}
	for _, in := range svc.Status.LoadBalancer.Ingress {
		if in.IP != "" || in.Hostname != "" {
			return healthy
		}
	}
	return unhealthy
}

func ingressHealth(ing *networkingv1.Ingress) workv1alpha1.ResourceHealth {
	for _, in := range ing.Status.LoadBalancer.Ingress {
		if in.IP != "" || in.Hostname != "" {
			return healthy
		}
	}
	return unhealthy
}

func pvcHealth(pvc *corev1.PersistentVolumeClaim) workv1alpha1.ResourceHealth {
	return verdict(pvc.Status.Phase == corev1.ClaimBound)
}

func podHealth(pod *corev1.Pod) workv1alpha1.ResourceHealth {
	if pod.Status.Phase == corev1.PodSucceeded {
		return healthy
	}
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return verdict(pod.Status.Phase == corev1.PodRunning && c.Status == corev1.ConditionTrue)
		}
	}
	return unhealthy
}

func pdbHealth(pdb *policyv1.PodDisruptionBudget) workv1alpha1.ResourceHealth {
	return verdict(pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy)
}

// jobHealth: a Job that failed, or is being failed (FailureTarget), is
// Unhealthy; a running, suspended or complete Job is Healthy.
func jobHealth(job *batchv1.Job) workv1alpha1.ResourceHealth {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobFailed || c.Type == batchv1.JobFailureTarget) && c.Status == corev1.ConditionTrue {
			return unhealthy
		}
	}
	return healthy
}

func namespaceHealth(ns *corev1.Namespace) workv1alpha1.ResourceHealth {
	return verdict(ns.Status.Phase != corev1.NamespaceTerminating)
}

func pvHealth(pv *corev1.PersistentVolume) workv1alpha1.ResourceHealth {
	switch pv.Status.Phase {
	case corev1.VolumeAvailable, corev1.VolumeBound:
		return healthy
	case corev1.VolumePending, corev1.VolumeFailed:
		return unhealthy
	default: // Released, or no phase yet
		return unknown
	}
}

// hpaHealth: an autoscaler that cannot scale, or cannot compute a scale
// (other than being disabled on purpose by a zero-replica target), is
// Unhealthy; one without conditions has not been observed yet.
func hpaHealth(hpa *autoscalingv2.HorizontalPodAutoscaler) workv1alpha1.ResourceHealth {
	if len(hpa.Status.Conditions) == 0 {
		return unknown
	}
	for _, c := range hpa.Status.Conditions {
		if c.Status != corev1.ConditionFalse {
			continue
		}
		if c.Type == autoscalingv2.AbleToScale || (c.Type == autoscalingv2.ScalingActive && c.Reason != "ScalingDisabled") {
			return unhealthy
		}
	}
	return healthy
}
