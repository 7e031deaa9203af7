package interpret

import (
	"bytes"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestSlimKeepsWhatReflectionAndHealthRead(t *testing.T) {
	for _, raw := range []string{
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","generation":2,"annotations":{"resourcetemplate.karmada.io/generation":"5"}},"spec":{"replicas":2},
		  "status":{"observedGeneration":2,"replicas":2,"updatedReplicas":2,"readyReplicas":1,"availableReplicas":1,"unavailableReplicas":1,
		  "conditions":[{"type":"Available","status":"False","reason":"MinimumReplicasUnavailable","message":"Deployment does not have minimum availability."}]}}`,
		`{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"s","generation":1},"spec":{"replicas":1},
		  "status":{"observedGeneration":1,"replicas":1,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1,"conditions":[{"type":"X","status":"True"}]}}`,
	} {
		obj := &unstructured.Unstructured{}
		if err := obj.UnmarshalJSON([]byte(raw)); err != nil {
			t.Fatal(err)
		}
		wantHealth := Health(obj)
		wantStatus, err := ReflectStatus(obj)
		if err != nil {
			t.Fatal(err)
		}
		Slim(obj)
		if _, found, _ := unstructured.NestedSlice(obj.Object, "status", "conditions"); found {
			t.Errorf("%s: conditions kept", obj.GetKind())
		}
		if got := Health(obj); got != wantHealth {
			t.Errorf("%s: health %s after Slim, %s before", obj.GetKind(), got, wantHealth)
		}
		got, err := ReflectStatus(obj)
		if err != nil || !bytes.Equal(got.Raw, wantStatus.Raw) {
			t.Errorf("%s: reflected %s after Slim, %s before (%v)", obj.GetKind(), got.Raw, wantStatus.Raw, err)
		}
	}
	// A kind read through its conditions keeps them.
	job := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "batch/v1", "kind": "Job",
		"status": map[string]any{"conditions": []any{map[string]any{"type": "Failed", "status": "True"}}}}}
	Slim(job)
	if _, found, _ := unstructured.NestedSlice(job.Object, "status", "conditions"); !found {
		t.Error("a Job lost its conditions")
	}
}
