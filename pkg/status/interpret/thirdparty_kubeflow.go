package interpret

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// kubeflowKinds: the Kubeflow training jobs (kubeflow.org v1 PyTorchJob,
// TFJob, MPIJob, XGBoostJob, PaddleJob, JAXJob, and the MPI operator's
// v2beta1 MPIJob). The v1 jobs report their whole .status, as Karmada
// does; the v2beta1 MPIJob the fields of Karmada's script for it.
var kubeflowKinds = concat(
	rules(kubeflowV1Jobs(), nil, kubeflowJobHealth),
	rules(gvks("kubeflow.org", "MPIJob", "v2beta1"), mpiJobStatus, kubeflowJobHealth),
)

func kubeflowV1Jobs() []schema.GroupVersionKind {
	var out []schema.GroupVersionKind
	for _, kind := range []string{"PyTorchJob", "TFJob", "MPIJob", "XGBoostJob", "PaddleJob", "JAXJob"} {
		out = append(out, gvks("kubeflow.org", kind, "v1")...)
	}
	return out
}

// kubeflowJobHealth: a job is Unhealthy until its operator has reported a
// condition, and once it has Failed; created, running, restarting,
// suspended and succeeded jobs are Healthy.
func kubeflowJobHealth(obj *unstructured.Unstructured, status map[string]any) workv1alpha1.ResourceHealth {
	list, isList := status["conditions"].([]any)
	if status["conditions"] != nil && !isList {
		return unknown
	}
	if len(list) == 0 {
		return unhealthy
	}
	return verdict(!conditionTrue(status, "Failed"))
}

// mpiJobStatus is the reflection of a v2beta1 MPIJob: per replica type
// its active, succeeded and failed counts and selector, the conditions,
// and the start, completion and last reconcile times.
func mpiJobStatus(_ *unstructured.Unstructured, status map[string]any) (any, error) {
	out := map[string]any{}
	if rs, ok := status["replicaStatuses"].(map[string]any); ok {
		replicas := map[string]any{}
		for name, v := range rs {
			m, ok := v.(map[string]any)
			if !ok {
				continue
			}
			r := map[string]any{}
			for _, f := range []string{"active", "succeeded", "failed", "selector"} {
				if x, ok := m[f]; ok && x != nil {
					r[f] = x
				}
			}
			replicas[name] = r
		}
		out["replicaStatuses"] = replicas
	}
	for _, f := range []string{"conditions", "startTime", "completionTime", "lastReconcileTime"} {
		if v, ok := status[f]; ok && v != nil {
			out[f] = v
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}
