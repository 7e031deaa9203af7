package member

import (
	"slices"

	"github.com/tether-io/tether/pkg/manifest"
)

// The applied set: per Work key, the objects this process applied, so that
// garbage collection and deletion also find an object whose manifest went
// away before the Work's status listed it. The Work's status is what
// survives a restart; this set covers the window until it is written, and
// the agent's orphan scan at start covers a crash inside it. Identities
// here are scoped (see manifest.Identity.Scoped).

// AddApplied adds ids (with versions, for mapping) to the Work's applied set.
func (o *Objects) AddApplied(workKey string, ids []manifest.Identity) {
	if len(ids) == 0 {
		return
	}
	o.stateMu.Lock()
	defer o.stateMu.Unlock()
	o.applied[workKey] = mergeIDs(o.applied[workKey], ids)
}

// AppliedBy returns a copy of the Work's applied set.
func (o *Objects) AppliedBy(workKey string) []manifest.Identity {
	o.stateMu.Lock()
	defer o.stateMu.Unlock()
	return slices.Clone(o.applied[workKey])
}

// Released drops the released identities from the Work's applied set.
func (o *Objects) Released(workKey string, released map[manifest.Key]bool) {
	o.stateMu.Lock()
	defer o.stateMu.Unlock()
	if ids, ok := o.applied[workKey]; ok {
		o.applied[workKey] = slices.DeleteFunc(ids, func(id manifest.Identity) bool { return released[id.Key()] })
	}
}

// ForgetWork drops the Work's applied set.
func (o *Objects) ForgetWork(workKey string) {
	o.stateMu.Lock()
	defer o.stateMu.Unlock()
	delete(o.applied, workKey)
}

// mergeIDs appends to have the ids of add whose key it lacks.
func mergeIDs(have, add []manifest.Identity) []manifest.Identity {
	seen := make(map[manifest.Key]bool, len(have)+len(add))
	for _, id := range have {
		seen[id.Key()] = true
	}
	for _, id := range add {
		if !seen[id.Key()] {
			seen[id.Key()] = true
			have = append(have, id)
		}
	}
	return slices.Clip(have)
}
