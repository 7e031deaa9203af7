package release

import (
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
)

// WorkObjects lists, scoped and without repeats, the member objects a Work
// stands for: those its manifests name, and those its status says were
// applied (a manifest may have been removed since). This is what deleting
// the Work releases.
func (r *Releaser) WorkObjects(work *workv1alpha1.Work) []manifest.Identity {
	var out []manifest.Identity
	seen := map[manifest.Key]bool{}
	add := func(id manifest.Identity) {
		id, _ = r.cfg.Applier.Scope(id)
		if !seen[id.Key()] {
			seen[id.Key()] = true
			out = append(out, id)
		}
	}
	for _, m := range manifest.DecodeWork(work) {
		if m.Object != nil {
			add(m.ID)
		}
	}
	for _, id := range StatusIDs(work) {
		add(id)
	}
	return out
}

// StatusIDs lists, as written, the objects a Work's status says were applied.
func StatusIDs(work *workv1alpha1.Work) []manifest.Identity {
	var out []manifest.Identity
	for _, ms := range work.Status.ManifestStatuses {
		id := ms.Identifier
		if id.Kind == "" || id.Name == "" || id.Version == "" {
			continue
		}
		out = append(out, manifest.Identity{Group: id.Group, Version: id.Version, Kind: id.Kind, Namespace: id.Namespace, Name: id.Name})
	}
	return out
}
