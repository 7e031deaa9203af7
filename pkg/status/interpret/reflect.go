package interpret

import (
	"encoding/json"
	"fmt"
	"strconv"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// reflector builds the reflected status of obj from its .status map, which
// is present. It returns nil when there is nothing to report.
type reflector func(obj *unstructured.Unstructured, status map[string]any) (any, error)

// reflectors is the per-kind table of ReflectStatus, native kinds and the
// third-party kinds (thirdparty.go); a kind that is not in it reports its
// whole .status.
var reflectors = withThirdPartyReflectors(map[schema.GroupVersionKind]reflector{
	appsv1.SchemeGroupVersion.WithKind("Deployment"):                     pick(deploymentStatus),
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"):                     pick(replicaSetStatus),
	appsv1.SchemeGroupVersion.WithKind("DaemonSet"):                      pick(daemonSetStatus),
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"):                    pick(statefulSetStatus),
	corev1.SchemeGroupVersion.WithKind("Service"):                        pick(serviceStatus),
	batchv1.SchemeGroupVersion.WithKind("Job"):                           pick(jobStatus),
	policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"):          pick(podDisruptionBudgetStatus),
	autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"): pick(horizontalPodAutoscalerStatus),
	// A Secret has no status; should one ever carry a .status, it is not
	// reflected either: nothing of a Secret reaches the hub.
	corev1.SchemeGroupVersion.WithKind("Secret"): nothing,
})

// nothing reflects no status.
func nothing(*unstructured.Unstructured, map[string]any) (any, error) { return nil, nil }

// emptyIsNothing are the kinds whose reflected status karmada-agent drops
// when it is {}: it means the member's controller has not reported yet.
// Every other kind with a .status, even an empty one, is reported, as {}
// when there is nothing in it (a new CronJob, a Job before its controller
// saw it, a custom resource with an empty status), never as null.
var emptyIsNothing = map[schema.GroupVersionKind]bool{
	appsv1.SchemeGroupVersion.WithKind("Deployment"): true,
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"): true,
}

// ReflectStatus returns the status the hub should see for obj, in the shape
// karmada-agent reports for its kind, or nil when there is nothing to
// report: no .status, a Service that is not a LoadBalancer, a Secret, or an
// empty Deployment or ReplicaSet status. An empty status of any other kind
// is reported as {}, as karmada-agent does. An error means obj's status is
// malformed.
func ReflectStatus(obj *unstructured.Unstructured) (*runtime.RawExtension, error) {
	status, found, err := unstructured.NestedMap(obj.Object, "status")
	if err != nil {
		return nil, objectError(obj, err)
	}
	if !found {
		return nil, nil
	}
	var out any = status
	if reflect, ok := reflectors[obj.GroupVersionKind()]; ok {
		if out, err = reflect(obj, status); err != nil {
			return nil, objectError(obj, err)
		}
	}
	if out == nil {
		return nil, nil
	}
	raw, err := json.Marshal(out)
	if err != nil {
		return nil, objectError(obj, err)
	}
	if string(raw) == "{}" && emptyIsNothing[obj.GroupVersionKind()] {
		return nil, nil
	}
	return &runtime.RawExtension{Raw: raw}, nil
}

func objectError(obj *unstructured.Unstructured, err error) error {
	return fmt.Errorf("%s %s/%s: reflect status: %w", obj.GetKind(), obj.GetNamespace(), obj.GetName(), err)
}

// generations is Karmada's FederatedGeneration: the member object's
// metadata.generation and the resource template generation it was applied
// from, both omitted when zero.
type generations struct {
	Generation                 int64 `json:"generation,omitempty"`
	ResourceTemplateGeneration int64 `json:"resourceTemplateGeneration,omitempty"`
}

// generationsOf reads obj's generation and its
// resourcetemplate.karmada.io/generation annotation. A missing or malformed
// annotation leaves resourceTemplateGeneration out instead of failing the
// reflection, unlike karmada-agent.
func generationsOf(obj *unstructured.Unstructured) generations {
	g := generations{Generation: obj.GetGeneration()}
	if v, ok := obj.GetAnnotations()[workv1alpha1.ResourceTemplateGenerationAnnotation]; ok {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			g.ResourceTemplateGeneration = n
		}
	}
	return g
}

// pick adapts a function over the typed status of a kind to the table.
func pick[T any](fn func(obj *unstructured.Unstructured, s *T) any) reflector {
	return func(obj *unstructured.Unstructured, status map[string]any) (any, error) {
		s := new(T)
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(status, s); err != nil {
			return nil, err
		}
		return fn(obj, s), nil
	}
}

func deploymentStatus(obj *unstructured.Unstructured, s *appsv1.DeploymentStatus) any {
	return struct {
		generations
		appsv1.DeploymentStatus
	}{generationsOf(obj), appsv1.DeploymentStatus{
		Replicas:            s.Replicas,
		UpdatedReplicas:     s.UpdatedReplicas,
		ReadyReplicas:       s.ReadyReplicas,
		AvailableReplicas:   s.AvailableReplicas,
		UnavailableReplicas: s.UnavailableReplicas,
		ObservedGeneration:  s.ObservedGeneration,
	}}
}

func replicaSetStatus(obj *unstructured.Unstructured, s *appsv1.ReplicaSetStatus) any {
	return struct {
		generations
		appsv1.ReplicaSetStatus
	}{generationsOf(obj), appsv1.ReplicaSetStatus{
		Replicas:           s.Replicas,
		ReadyReplicas:      s.ReadyReplicas,
		AvailableReplicas:  s.AvailableReplicas,
		ObservedGeneration: s.ObservedGeneration,
	}}
}

func daemonSetStatus(obj *unstructured.Unstructured, s *appsv1.DaemonSetStatus) any {
	return struct {
		generations
		appsv1.DaemonSetStatus
	}{generationsOf(obj), appsv1.DaemonSetStatus{
		CurrentNumberScheduled: s.CurrentNumberScheduled,
		DesiredNumberScheduled: s.DesiredNumberScheduled,
		NumberAvailable:        s.NumberAvailable,
		NumberMisscheduled:     s.NumberMisscheduled,
		NumberReady:            s.NumberReady,
		UpdatedNumberScheduled: s.UpdatedNumberScheduled,
		NumberUnavailable:      s.NumberUnavailable,
		ObservedGeneration:     s.ObservedGeneration,
	}}
}

// statefulSetStatus also reports observedGeneration, which karmada-agent
// leaves out, so that the control plane can advance the template's
// observedGeneration (docs/karmada-compatibility.md, "Work status").
func statefulSetStatus(obj *unstructured.Unstructured, s *appsv1.StatefulSetStatus) any {
	return struct {
		generations
		appsv1.StatefulSetStatus
	}{generationsOf(obj), appsv1.StatefulSetStatus{
		Replicas:           s.Replicas,
		AvailableReplicas:  s.AvailableReplicas,
		ReadyReplicas:      s.ReadyReplicas,
		CurrentReplicas:    s.CurrentReplicas,
		UpdatedReplicas:    s.UpdatedReplicas,
		ObservedGeneration: s.ObservedGeneration,
	}}
}

// serviceStatus reports status.loadBalancer of a LoadBalancer Service and
// nothing for the other types.
func serviceStatus(obj *unstructured.Unstructured, s *corev1.ServiceStatus) any {
	if t, _, _ := unstructured.NestedString(obj.Object, "spec", "type"); t != string(corev1.ServiceTypeLoadBalancer) {
		return nil
	}
	return corev1.ServiceStatus{LoadBalancer: s.LoadBalancer}
}

func jobStatus(_ *unstructured.Unstructured, s *batchv1.JobStatus) any {
	return batchv1.JobStatus{
		Active:         s.Active,
		Succeeded:      s.Succeeded,
		Failed:         s.Failed,
		Conditions:     s.Conditions,
		StartTime:      s.StartTime,
		CompletionTime: s.CompletionTime,
	}
}

func podDisruptionBudgetStatus(_ *unstructured.Unstructured, s *policyv1.PodDisruptionBudgetStatus) any {
	return policyv1.PodDisruptionBudgetStatus{
		DisruptionsAllowed: s.DisruptionsAllowed,
		ExpectedPods:       s.ExpectedPods,
		DesiredHealthy:     s.DesiredHealthy,
		CurrentHealthy:     s.CurrentHealthy,
		DisruptedPods:      s.DisruptedPods,
	}
}

func horizontalPodAutoscalerStatus(_ *unstructured.Unstructured, s *autoscalingv2.HorizontalPodAutoscalerStatus) any {
	return autoscalingv2.HorizontalPodAutoscalerStatus{
		CurrentReplicas: s.CurrentReplicas,
		DesiredReplicas: s.DesiredReplicas,
	}
}
