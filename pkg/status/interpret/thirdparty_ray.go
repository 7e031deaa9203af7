package interpret

import (
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// rayKinds: KubeRay's RayJob and RayCluster (ray.io/v1). Both report their
// whole .status, as Karmada does: its aggregation of a RayCluster reads
// most of it.
var rayKinds = concat(
	rules(gvks("ray.io", "RayJob", "v1"), nil, rayJobHealth),
	rules(gvks("ray.io", "RayCluster", "v1"), nil, rayClusterHealth),
)

// rayJobHealth: a RayJob is Healthy while its job runs
// (jobDeploymentStatus Running) and once it completed with jobStatus
// SUCCEEDED; initializing, waiting, retrying, suspended, failed and
// stopped jobs are Unhealthy.
func rayJobHealth(obj *unstructured.Unstructured, status map[string]any) workv1alpha1.ResourceHealth {
	deployment, _ := status["jobDeploymentStatus"].(string)
	job, _ := status["jobStatus"].(string)
	return verdict(deployment == "Running" || (deployment == "Complete" && job == "SUCCEEDED"))
}

// rayClusterHealth: a RayCluster is Healthy when its head pod is ready
// (HeadPodReady) and all its pods were once ready (RayClusterProvisioned),
// and no worker group failed to create pods (RayClusterReplicaFailure).
func rayClusterHealth(obj *unstructured.Unstructured, status map[string]any) workv1alpha1.ResourceHealth {
	return verdict(conditionTrue(status, "HeadPodReady") && conditionTrue(status, "RayClusterProvisioned") &&
		!conditionTrue(status, "RayClusterReplicaFailure"))
}
