package mcs

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	discoveryv1 "k8s.io/api/discovery/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// sourceLabels are the labels that name the Service for each source.
var sourceLabels = map[Source][2]string{
	FromServiceExport: {ServiceNamespaceLabel, ServiceNameLabel},
	FromMCS:           {MCSNamespaceLabel, MCSNameLabel},
}

// sourceFinalizers are the finalizers each source adds on a Karmada control plane.
var sourceFinalizers = map[Source]string{FromServiceExport: ServiceExportFinalizer, FromMCS: MCSFinalizer}

// Action is what a reconcile does to a reported Work.
type Action int

// The actions.
const (
	Keep   Action = iota // nothing to write
	Create               // create Work
	Update               // update Work (from the cached one, with its resourceVersion)
	Delete               // delete the Work
)

// Plan is the write that brings one slice's Work where it should be.
type Plan struct {
	Action Action
	// Work is the Work to create or update (nil for Keep and Delete).
	Work *workv1alpha1.Work
}

// Want is what should be reported for one EndpointSlice.
type Want struct {
	// Slice is the member slice; nil when it is gone or not to be reported.
	Slice *discoveryv1.EndpointSlice
	// Sources export the slice's Service (empty: report nothing).
	Sources []Source
	// Managed are the sources the agent runs: it sets and removes their
	// labels and finalizers, and leaves the others' alone.
	Managed []Source
	// ControlPlane says the hub runs Karmada's controllers, which remove
	// the finalizers the agent adds.
	ControlPlane bool
}

// plan compares what should be reported with the Work the hub has
// (existing, nil when there is none) in execution namespace ns.
func plan(ns string, want Want, existing *workv1alpha1.Work) (Plan, error) {
	if want.Slice == nil || len(want.Sources) == 0 {
		return release(existing, want), nil
	}
	if existing != nil && existing.DeletionTimestamp != nil {
		// Reported again once the deletion completes (its event requeues the slice).
		return stripFinalizers(existing, want), nil
	}
	name := sliceWorkName(want.Slice.Namespace, want.Slice.Name)
	next := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	if existing != nil {
		next = existing.DeepCopy()
	}
	next.Labels = sourceLabelsFor(next.Labels, want.Managed, want.Sources, want.Slice)
	next.Finalizers = finalizersFor(next.Finalizers, want)
	manifest, err := sliceManifest(want.Slice, ns, name, next.Labels[workv1alpha1.WorkPermanentIDLabel])
	if err != nil {
		return Plan{}, err
	}
	raw, err := json.Marshal(manifest.Object)
	if err != nil {
		return Plan{}, fmt.Errorf("encode the manifest of EndpointSlice %s/%s: %w", want.Slice.Namespace, want.Slice.Name, err)
	}
	// The spec is the agent's alone, as for karmada-agent; an unchanged
	// manifest keeps the bytes the hub stored.
	workload := workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: raw}}}}
	if existing != nil && sameManifest(existing, manifest.Object) {
		workload = existing.Spec.Workload
	}
	next.Spec = workv1alpha1.WorkSpec{SuspendDispatching: ptr.To(true), Workload: workload}
	switch {
	case existing == nil:
		return Plan{Action: Create, Work: next}, nil
	case equality.Semantic.DeepEqual(existing.Labels, next.Labels) && slices.Equal(existing.Finalizers, next.Finalizers) &&
		equality.Semantic.DeepEqual(existing.Spec, next.Spec):
		return Plan{Action: Keep}, nil
	}
	return Plan{Action: Update, Work: next}, nil
}

// release removes the agent's sources from a Work it should no longer
// report: it deletes the Work when nothing else lists it, otherwise drops
// the sources' labels, as karmada-agent does.
func release(existing *workv1alpha1.Work, want Want) Plan {
	if existing == nil {
		return Plan{}
	}
	if existing.DeletionTimestamp != nil {
		return stripFinalizers(existing, want)
	}
	others := managedBy(existing.Labels)
	others = slices.DeleteFunc(others, func(s Source) bool { return slices.Contains(want.Managed, s) })
	if len(others) == 0 {
		return Plan{Action: Delete}
	}
	want.Sources = nil
	next := existing.DeepCopy()
	next.Labels = sourceLabelsFor(next.Labels, want.Managed, nil, nil)
	next.Finalizers = finalizersFor(next.Finalizers, want)
	if equality.Semantic.DeepEqual(existing.Labels, next.Labels) && slices.Equal(existing.Finalizers, next.Finalizers) {
		return Plan{}
	}
	return Plan{Action: Update, Work: next}
}

// stripFinalizers removes the agent's finalizers from a Work being deleted
// when no control plane will: nothing else would ever remove them.
func stripFinalizers(existing *workv1alpha1.Work, want Want) Plan {
	if want.ControlPlane {
		return Plan{}
	}
	want.Sources = nil
	next := existing.DeepCopy()
	next.Finalizers = finalizersFor(next.Finalizers, want)
	if slices.Equal(existing.Finalizers, next.Finalizers) {
		return Plan{}
	}
	return Plan{Action: Update, Work: next}
}

// sourceLabelsFor returns labels with the Service labels of each managed
// source set for the sources given and removed for the others, and the
// managed-by label listing them beside the values the agent does not manage.
func sourceLabelsFor(labels map[string]string, managed, sources []Source, slice *discoveryv1.EndpointSlice) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		out[k] = v
	}
	listed := managedBy(labels)
	kept := slices.DeleteFunc(slices.Clone(listed), func(s Source) bool { return slices.Contains(managed, s) })
	for _, s := range managed {
		keys := sourceLabels[s]
		if !slices.Contains(sources, s) {
			delete(out, keys[0])
			delete(out, keys[1])
			continue
		}
		out[keys[0]], out[keys[1]] = slice.Namespace, slice.Labels[discoveryv1.LabelServiceName]
		kept = append(kept, s)
	}
	if sameSet(kept, listed) && labels[ManagedByLabel] != "" {
		return out // keep the order it was written in
	}
	names := make([]string, len(kept))
	for i, s := range kept {
		names[i] = string(s)
	}
	slices.Sort(names)
	out[ManagedByLabel] = strings.Join(names, ".")
	if len(names) == 0 {
		delete(out, ManagedByLabel)
	}
	return out
}

// finalizersFor returns the finalizers with those of the wanted sources
// added when a control plane removes them, and without those of the managed
// sources when none does; sorted, as Karmada merges them.
func finalizersFor(finalizers []string, want Want) []string {
	out := slices.Clone(finalizers)
	if !want.ControlPlane {
		out = slices.DeleteFunc(out, func(f string) bool {
			return slices.ContainsFunc(want.Managed, func(s Source) bool { return sourceFinalizers[s] == f })
		})
	}
	for _, s := range want.Sources {
		if f := sourceFinalizers[s]; want.ControlPlane && !slices.Contains(out, f) {
			out = append(out, f)
			slices.Sort(out)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// managedBy is the list of sources the managed-by label names.
func managedBy(labels map[string]string) []Source {
	var out []Source
	for _, s := range strings.Split(labels[ManagedByLabel], ".") {
		if s != "" && !slices.Contains(out, Source(s)) {
			out = append(out, Source(s))
		}
	}
	return out
}

func sameSet(a, b []Source) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}

// sameManifest reports whether the Work's only manifest is obj, compared as
// decoded JSON (the hub may store it with another key order).
func sameManifest(w *workv1alpha1.Work, obj map[string]any) bool {
	if len(w.Spec.Workload.Manifests) != 1 {
		return false
	}
	var have map[string]any
	if err := json.Unmarshal(w.Spec.Workload.Manifests[0].Raw, &have); err != nil {
		return false
	}
	want, err := roundTrip(obj)
	return err == nil && equality.Semantic.DeepEqual(have, want)
}

// roundTrip gives obj the shape decoded JSON has (float64 numbers, []any).
func roundTrip(obj map[string]any) (map[string]any, error) {
	raw, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	var out map[string]any
	return out, json.Unmarshal(raw, &out)
}
