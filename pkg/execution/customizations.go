package execution

import (
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/tools/cache"

	"github.com/tether-io/tether/pkg/execution/queue"
)

// Reinterpret is told that the rules interpreting some kinds changed (a
// ResourceInterpreterCustomization was added, updated or deleted): the
// Works holding objects of the status kinds get their status re-evaluated,
// and those holding objects of the retention kinds are applied again. A
// Work holds a kind when its status lists a manifest of it or this process
// applied one.
func (c *Controller) Reinterpret(status, retention []schema.GroupVersionKind) {
	if len(status) == 0 && len(retention) == 0 || !c.worksSynced() {
		return
	}
	kinds := func(list []schema.GroupVersionKind) map[schema.GroupKind]bool {
		out := map[schema.GroupKind]bool{}
		for _, gvk := range list {
			out[gvk.GroupKind()] = true
		}
		return out
	}
	touch, reapply := kinds(status), kinds(retention)
	works, err := c.works.List(everything)
	if err != nil {
		return
	}
	for _, w := range works {
		key, _ := cache.MetaNamespaceKeyFunc(w)
		held := map[schema.GroupKind]bool{}
		for _, ms := range w.Status.ManifestStatuses {
			held[schema.GroupKind{Group: ms.Identifier.Group, Kind: ms.Identifier.Kind}] = true
		}
		for _, id := range c.member.AppliedBy(key) {
			held[schema.GroupKind{Group: id.Group, Kind: id.Kind}] = true
		}
		var t, r bool
		for gk := range held {
			t, r = t || touch[gk], r || reapply[gk]
		}
		if t {
			c.writer.Touch(key)
		}
		if r {
			c.queue.Add(key, queue.High)
		}
	}
}
