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

// reflectors is the per-kind table of ReflectStatus; a kind that is not in it
// reports its whole .status.
var reflectors = map[schema.GroupVersionKind]reflector{
	appsv1.SchemeGroupVersion.WithKind("Deployment"):                     reflectDeployment,
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"):                     reflectReplicaSet,
	appsv1.SchemeGroupVersion.WithKind("DaemonSet"):                      reflectDaemonSet,
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"):                    reflectStatefulSet,
	corev1.SchemeGroupVersion.WithKind("Service"):                        reflectService,
	batchv1.SchemeGroupVersion.WithKind("Job"):                           reflectJob,
	policyv1.SchemeGroupVersion.WithKind("PodDisruptionBudget"):          reflectPodDisruptionBudget,
	autoscalingv2.SchemeGroupVersion.WithKind("HorizontalPodAutoscaler"): reflectHorizontalPodAutoscaler,
}

// ReflectStatus returns the status the hub should see for obj, in the shape
// karmada-agent reports for its kind, or nil when there is nothing to
// report (no .status, an empty one, or a Service that is not a
// LoadBalancer). An error means obj's status is malformed.
func ReflectStatus(obj *unstructured.Unstructured) (*runtime.RawExtension, error) {
	status, found, err := unstructured.NestedMap(obj.Object, "status")
	if err != nil {
		return nil, objectError(obj, err)
	}
	if !found || len(status) == 0 {
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
	if string(raw) == "{}" {
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

func fromStatus[T any](status map[string]any) (*T, error) {
	out := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(status, out); err != nil {
		return nil, err
	}
	return out, nil
}

func reflectDeployment(obj *unstructured.Unstructured, status map[string]any) (any, error) {
	s, err := fromStatus[appsv1.DeploymentStatus](status)
	if err != nil {
		return nil, err
	}
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
	}}, nil
}

func reflectReplicaSet(obj *unstructured.Unstructured, status map[string]any) (any, error) {
	s, err := fromStatus[appsv1.ReplicaSetStatus](status)
	if err != nil {
		return nil, err
	}
	return struct {
		generations
		appsv1.ReplicaSetStatus
	}{generationsOf(obj), appsv1.ReplicaSetStatus{
		Replicas:           s.Replicas,
		ReadyReplicas:      s.ReadyReplicas,
		AvailableReplicas:  s.AvailableReplicas,
		ObservedGeneration: s.ObservedGeneration,
	}}, nil
}

func reflectDaemonSet(obj *unstructured.Unstructured, status map[string]any) (any, error) {
	s, err := fromStatus[appsv1.DaemonSetStatus](status)
	if err != nil {
		return nil, err
	}
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
	}}, nil
}

// reflectStatefulSet also reports observedGeneration, which karmada-agent
// leaves out (weakness 7.9).
func reflectStatefulSet(obj *unstructured.Unstructured, status map[string]any) (any, error) {
	s, err := fromStatus[appsv1.StatefulSetStatus](status)
	if err != nil {
		return nil, err
	}
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
	}}, nil
}

// reflectService reports status.loadBalancer of a LoadBalancer Service and
// nothing for the other types.
func reflectService(obj *unstructured.Unstructured, status map[string]any) (any, error) {
	if t, _, _ := unstructured.NestedString(obj.Object, "spec", "type"); t != string(corev1.ServiceTypeLoadBalancer) {
		return nil, nil
	}
	s, err := fromStatus[corev1.ServiceStatus](status)
	if err != nil {
		return nil, err
	}
	return corev1.ServiceStatus{LoadBalancer: s.LoadBalancer}, nil
}

func reflectJob(_ *unstructured.Unstructured, status map[string]any) (any, error) {
	s, err := fromStatus[batchv1.JobStatus](status)
	if err != nil {
		return nil, err
	}
	return batchv1.JobStatus{
		Active:         s.Active,
		Succeeded:      s.Succeeded,
		Failed:         s.Failed,
		Conditions:     s.Conditions,
		StartTime:      s.StartTime,
		CompletionTime: s.CompletionTime,
	}, nil
}

func reflectPodDisruptionBudget(_ *unstructured.Unstructured, status map[string]any) (any, error) {
	s, err := fromStatus[policyv1.PodDisruptionBudgetStatus](status)
	if err != nil {
		return nil, err
	}
	return policyv1.PodDisruptionBudgetStatus{
		DisruptionsAllowed: s.DisruptionsAllowed,
		ExpectedPods:       s.ExpectedPods,
		DesiredHealthy:     s.DesiredHealthy,
		CurrentHealthy:     s.CurrentHealthy,
		DisruptedPods:      s.DisruptedPods,
	}, nil
}

func reflectHorizontalPodAutoscaler(_ *unstructured.Unstructured, status map[string]any) (any, error) {
	s, err := fromStatus[autoscalingv2.HorizontalPodAutoscalerStatus](status)
	if err != nil {
		return nil, err
	}
	return autoscalingv2.HorizontalPodAutoscalerStatus{
		CurrentReplicas: s.CurrentReplicas,
		DesiredReplicas: s.DesiredReplicas,
	}, nil
}
