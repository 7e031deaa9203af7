package apply

import (
	"context"
	"encoding/json"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
)

// Delete deletes live with Background propagation, on the condition that
// it is still the same object (UID precondition). An object already gone
// counts as deleted.
func (a *Applier) Delete(ctx context.Context, gvr schema.GroupVersionResource, live *unstructured.Unstructured) Entry {
	e := Entry{Subject: Subject(live), GVR: gvr, Action: Deleted}
	uid := live.GetUID()
	policy := metav1.DeletePropagationBackground
	opts := metav1.DeleteOptions{PropagationPolicy: &policy}
	if uid != "" {
		opts.Preconditions = &metav1.Preconditions{UID: &uid}
	}
	a.stats.deletes.Add(1)
	err := a.resource(gvr, live.GetNamespace()).Delete(ctx, live.GetName(), opts)
	switch {
	case err == nil, apierrors.IsNotFound(err):
	case apierrors.IsConflict(err): // the UID changed: someone re-created it; not ours to delete
		e.Action = Unchanged
	default:
		e.Action, e.Err = Failed, classify(e.Subject, err)
	}
	return e
}

// StripMetadata removes the given label and annotation keys from live with a
// merge patch, leaving the object otherwise in place (preserve on deletion).
// Keys the object does not carry are ignored; an object already gone is fine.
func (a *Applier) StripMetadata(ctx context.Context, gvr schema.GroupVersionResource, live *unstructured.Unstructured, labels, annotations []string) Entry {
	e := Entry{Subject: Subject(live), GVR: gvr, Action: Configured}
	meta := map[string]any{}
	drop := func(field string, present map[string]string, keys []string) {
		m := map[string]any{}
		for _, k := range keys {
			if _, ok := present[k]; ok {
				m[k] = nil
			}
		}
		if len(m) > 0 {
			meta[field] = m
		}
	}
	drop("labels", live.GetLabels(), labels)
	drop("annotations", live.GetAnnotations(), annotations)
	if len(meta) == 0 {
		e.Action = Unchanged
		return e
	}
	body, _ := json.Marshal(map[string]any{"metadata": meta})
	out, err := a.resource(gvr, live.GetNamespace()).Patch(ctx, live.GetName(), types.MergePatchType, body,
		metav1.PatchOptions{FieldManager: a.fieldManager})
	switch {
	case err == nil:
		e.Object = out
	case apierrors.IsNotFound(err):
		e.Action = Unchanged
	default:
		e.Action, e.Err = Failed, classify(e.Subject, err)
	}
	return e
}
