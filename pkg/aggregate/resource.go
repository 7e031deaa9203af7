package aggregate

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Resource is one manifest, identified by apiVersion, kind, namespace and
// name, as reported by every cluster that has a Work carrying it.
type Resource struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// FullyApplied is Karmada's FullyApplied condition: every cluster
	// applied its Work.
	FullyApplied bool `json:"fullyApplied"`
	// Replicas sums the clusters' Replicas, for the kinds that have them.
	Replicas *Replicas `json:"replicas,omitempty"`
	// Status is the aggregated status for the kinds Karmada aggregates.
	Status *runtime.RawExtension `json:"status,omitempty"`
	// Clusters has one item per cluster (per Work), sorted by cluster name.
	Clusters []Item `json:"clusters"`
}

// Item is what one cluster reports about a Resource: Karmada's
// AggregatedStatusItem plus the Work it comes from and the ready counts.
type Item struct {
	ClusterName string `json:"clusterName"`
	// Work is the name of the Work in karmada-es-<clusterName>.
	Work           string                      `json:"work"`
	Applied        bool                        `json:"applied"`
	AppliedMessage string                      `json:"appliedMessage,omitempty"`
	Health         workv1alpha1.ResourceHealth `json:"health"`
	Replicas       *Replicas                   `json:"replicas,omitempty"`
	// Status is the reflected status, verbatim; nil until applied and reported.
	Status *runtime.RawExtension `json:"status,omitempty"`
}

// Replicas counts a workload's ready replicas against those it asks for:
// spec.replicas of the manifest (default 1) for Deployments, StatefulSets
// and ReplicaSets, the reported desiredNumberScheduled for DaemonSets.
type Replicas struct {
	Ready   int64 `json:"ready"`
	Desired int64 `json:"desired"`
}

// key identifies a resource across clusters.
type key struct{ apiVersion, kind, namespace, name string }

// Works groups the manifests of works by resource and aggregates each
// resource across clusters. Works outside execution namespaces and Works
// being deleted are skipped, as Karmada's control plane skips them.
// Resources are sorted by namespace, name, kind and apiVersion.
//
// The error joins what could not be read, each naming the Work and the
// manifest: a manifest that is not an object, a reflected status that does
// not have its kind's shape. The resources are returned anyway; one whose
// statuses could not be aggregated has no Status.
func Works(works []workv1alpha1.Work) ([]Resource, error) {
	var errs []error
	byKey := map[key]*Resource{}
	templates := map[key]*unstructured.Unstructured{}
	for i := range works {
		w := &works[i]
		cluster, ok := strings.CutPrefix(w.Namespace, workv1alpha1.ExecutionSpacePrefix)
		if !ok || cluster == "" || w.DeletionTimestamp != nil {
			continue
		}
		for ordinal, m := range w.Spec.Workload.Manifests {
			obj := &unstructured.Unstructured{}
			if err := obj.UnmarshalJSON(m.Raw); err != nil {
				errs = append(errs, fmt.Errorf("Work %s/%s: manifest %d is not a Kubernetes object: %w", w.Namespace, w.Name, ordinal, err))
				continue
			}
			k := key{obj.GetAPIVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName()}
			r := byKey[k]
			if r == nil {
				r = &Resource{APIVersion: k.apiVersion, Kind: k.kind, Namespace: k.namespace, Name: k.name}
				byKey[k] = r
				templates[k] = obj
			}
			item, err := itemOf(cluster, w, ordinal, obj)
			if err != nil {
				errs = append(errs, fmt.Errorf("Work %s/%s: manifest %d (%s): %w", w.Namespace, w.Name, ordinal, describe(r), err))
			}
			r.Clusters = append(r.Clusters, item)
		}
	}
	out := make([]Resource, 0, len(byKey))
	for k, r := range byKey {
		if err := r.aggregate(templates[k]); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", describe(r), err))
		}
		out = append(out, *r)
	}
	slices.SortFunc(out, func(a, b Resource) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.APIVersion, b.APIVersion))
	})
	return out, errors.Join(errs...)
}

// itemOf is step 4 and 5 of Karmada's aggregation for one cluster: not
// applied ⇒ no status and Unknown health; applied ⇒ the first matching
// manifestStatus supplies status and health.
func itemOf(cluster string, w *workv1alpha1.Work, ordinal int, manifest *unstructured.Unstructured) (Item, error) {
	item := Item{ClusterName: cluster, Work: w.Name, Health: workv1alpha1.ResourceUnknown}
	applied := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
	switch {
	case applied == nil: // never reported: not applied, no message
	case applied.Status != metav1.ConditionTrue:
		item.AppliedMessage = applied.Message
	default:
		item.Applied = true
		if ms := matchingStatus(w.Status.ManifestStatuses, ordinal, manifest); ms != nil {
			item.Status = ms.Status
			if ms.Health != "" {
				item.Health = ms.Health
			}
		}
	}
	var err error
	item.Replicas, err = replicasOf(manifest, item.Status)
	return item, err
}

// matchingStatus returns the first manifestStatus whose identifier has the
// manifest's ordinal, group, version, kind, namespace and name (Karmada does
// not compare resource). A manifest without a namespace matches any.
func matchingStatus(statuses []workv1alpha1.ManifestStatus, ordinal int, manifest *unstructured.Unstructured) *workv1alpha1.ManifestStatus {
	gv, _ := schema.ParseGroupVersion(manifest.GetAPIVersion())
	for i := range statuses {
		id := statuses[i].Identifier
		if id.Ordinal == ordinal && id.Group == gv.Group && id.Version == gv.Version && id.Kind == manifest.GetKind() &&
			id.Name == manifest.GetName() && (id.Namespace == manifest.GetNamespace() || manifest.GetNamespace() == "") {
			return &statuses[i]
		}
	}
	return nil
}

// aggregate computes what depends on all the clusters: FullyApplied, the
// summed Replicas and the aggregated status.
func (r *Resource) aggregate(template *unstructured.Unstructured) error {
	slices.SortStableFunc(r.Clusters, func(a, b Item) int {
		return cmp.Or(cmp.Compare(a.ClusterName, b.ClusterName), cmp.Compare(a.Work, b.Work))
	})
	r.FullyApplied = len(r.Clusters) > 0
	for _, it := range r.Clusters {
		r.FullyApplied = r.FullyApplied && it.Applied
		if it.Replicas != nil {
			if r.Replicas == nil {
				r.Replicas = &Replicas{}
			}
			r.Replicas.Ready += it.Replicas.Ready
			r.Replicas.Desired += it.Replicas.Desired
		}
	}
	agg, ok := aggregators[template.GroupVersionKind()]
	if !ok {
		return nil
	}
	status, err := agg(template, r.Clusters)
	if err != nil || status == nil {
		return err
	}
	raw, err := json.Marshal(status)
	if err != nil {
		return err
	}
	r.Status = &runtime.RawExtension{Raw: raw}
	return nil
}

// describe names a resource in errors: "Deployment default/nginx".
func describe(r *Resource) string { return r.Kind + " " + r.Ref() }

// Ref is "namespace/name", or the name of a cluster-scoped resource.
func (r *Resource) Ref() string {
	if r.Namespace == "" {
		return r.Name
	}
	return r.Namespace + "/" + r.Name
}
