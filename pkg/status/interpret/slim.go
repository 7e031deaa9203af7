package interpret

import (
	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// conditionFree are the kinds whose reflection and health rules read
// counters only, never status.conditions.
var conditionFree = map[schema.GroupVersionKind]bool{
	appsv1.SchemeGroupVersion.WithKind("Deployment"):  true,
	appsv1.SchemeGroupVersion.WithKind("ReplicaSet"):  true,
	appsv1.SchemeGroupVersion.WithKind("StatefulSet"): true,
	appsv1.SchemeGroupVersion.WithKind("DaemonSet"):   true,
}

// Slim removes from an object what neither ReflectStatus nor Health reads,
// so that a cache of member objects kept for them stays small: the status
// conditions of the kinds in conditionFree. Other kinds are left whole.
func Slim(obj *unstructured.Unstructured) {
	if !conditionFree[obj.GroupVersionKind()] {
		return
	}
	if status, ok := obj.Object["status"].(map[string]any); ok {
		delete(status, "conditions")
	}
}
