package interpret

import (
	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
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

// healthRules is the per-kind table of Health: Karmada's native rules (the
// first nine), three rules of Tether's own for kinds Karmada has none for
// (where its answer, Healthy, hides a plain failure), and the third-party
// kinds (thirdparty.go).
var healthRules = withThirdPartyHealth(map[schema.GroupVersionKind]healthRule{
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
	corev1.SchemeGroupVersion.WithKind("PersistentVolume"):                           typed(pvHealth),
	{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}: typed(crdHealth),
})

// Health judges obj, a live member object: a kind with a rule in the table
// gets that rule's verdict; any other kind is Healthy, because it exists,
// as karmada-agent judges a kind without a rule.
func Health(obj *unstructured.Unstructured) workv1alpha1.ResourceHealth {
	if rule, ok := healthRules[obj.GroupVersionKind()]; ok {
		return rule(obj)
	}
	return healthy
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

// pvHealth: a volume whose reclamation failed is Unhealthy.
func pvHealth(pv *corev1.PersistentVolume) workv1alpha1.ResourceHealth {
	return verdict(pv.Status.Phase != corev1.VolumeFailed)
}

// crdHealth: a CustomResourceDefinition is Healthy once it is Established;
// one whose names were refused (NamesAccepted False) or that is not
// established yet is Unhealthy.
func crdHealth(crd *apiextensionsv1.CustomResourceDefinition) workv1alpha1.ResourceHealth {
	established := false
	for _, c := range crd.Status.Conditions {
		switch {
		case c.Type == apiextensionsv1.NamesAccepted && c.Status == apiextensionsv1.ConditionFalse:
			return unhealthy
		case c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue:
			established = true
		}
	}
	return verdict(established)
}
