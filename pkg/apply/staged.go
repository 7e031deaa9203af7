package apply

import (
	"context"
	"fmt"
	"sort"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
)

// tier orders objects so that what others depend on comes first.
func tier(obj *unstructured.Unstructured) int {
	gvk := obj.GroupVersionKind()
	switch {
	case gvk.Group == apiextensionsv1.GroupName && gvk.Kind == "CustomResourceDefinition":
		return 0
	case gvk.Group == "" && gvk.Kind == "Namespace":
		return 1
	}
	return 2
}

// CRDEstablishTimeout bounds the wait for an applied CRD to be Established.
const CRDEstablishTimeout = 30 * time.Second

// ApplyAll applies objs in dependency order: CustomResourceDefinitions first
// (then it waits until they are Established and refreshes discovery), then
// Namespaces, then everything else, keeping input order within each tier.
// A failure affects only its own entry. The change set is in input order.
func (a *Applier) ApplyAll(ctx context.Context, objs []*unstructured.Unstructured, opts Options) ChangeSet {
	order := make([]int, len(objs))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(i, j int) bool { return tier(objs[order[i]]) < tier(objs[order[j]]) })

	cs := make(ChangeSet, len(objs))
	var crds []int
	for pos, i := range order {
		if pos > 0 && tier(objs[order[pos-1]]) == 0 && tier(objs[i]) != 0 {
			a.awaitCRDs(ctx, cs, objs, crds)
		}
		cs[i] = a.ApplyOne(ctx, objs[i], opts)
		cs[i].Index = i
		if tier(objs[i]) == 0 && cs[i].Action != Failed {
			crds = append(crds, i)
		}
	}
	if len(order) > 0 && tier(objs[order[len(order)-1]]) == 0 {
		a.awaitCRDs(ctx, cs, objs, crds)
	}
	return cs
}

// awaitCRDs waits for the CRDs just applied to be Established, then drops
// the discovery and type caches so their kinds resolve. A CRD that does not
// become Established in time fails its entry.
func (a *Applier) awaitCRDs(ctx context.Context, cs ChangeSet, objs []*unstructured.Unstructured, idx []int) {
	if len(idx) == 0 {
		return
	}
	for _, i := range idx {
		e := &cs[i]
		name := objs[i].GetName()
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, CRDEstablishTimeout, true, func(ctx context.Context) (bool, error) {
			live, err := a.resource(e.GVR, "").Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return false, nil
			}
			conds, _, _ := unstructured.NestedSlice(live.Object, "status", "conditions")
			for _, c := range conds {
				m, _ := c.(map[string]any)
				if m["type"] == string(apiextensionsv1.Established) && m["status"] == "True" {
					return true, nil
				}
			}
			return false, nil
		})
		if err != nil {
			e.Action, e.Err = Failed, fmt.Errorf("%s: not Established within %s: %w", e.Subject, CRDEstablishTimeout, err)
		}
	}
	a.kinds.Reset()
	if a.types != nil {
		a.types.Reset()
	}
}
