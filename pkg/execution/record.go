package execution

import (
	"slices"

	"github.com/tether-io/tether/pkg/manifest"
)

// The applied record: per Work key, the objects this process applied, so
// that garbage collection and deletion also find an object whose manifest
// went away before the Work's status listed it. The status is the record
// that survives a restart; this one covers the window until it is written,
// and the orphan scan at start (orphans.go) covers a crash inside it.
// Identities here are scoped (see manifest.Identity.Scoped).

// recordApplied adds ids (with versions, for mapping) to the Work's record.
func (c *Controller) recordApplied(key string, ids []manifest.Identity) {
	if len(ids) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied[key] = mergeIDs(c.applied[key], ids)
}

// appliedIDs returns a copy of the Work's record.
func (c *Controller) appliedIDs(key string) []manifest.Identity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.applied[key])
}

// forgetReleased drops from the Work's record the released identities.
func (c *Controller) forgetReleased(key string, released map[manifest.Key]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if ids, ok := c.applied[key]; ok {
		c.applied[key] = slices.DeleteFunc(ids, func(id manifest.Identity) bool { return released[id.Key()] })
	}
}

// forgetApplied drops the Work's record.
func (c *Controller) forgetApplied(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.applied, key)
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

// releaseCandidates merges lists of ids by key, first version first,
// skipping the keys in current (nil: none): the objects to release.
func releaseCandidates(current map[manifest.Key]bool, lists ...[]manifest.Identity) []manifest.Identity {
	var out []manifest.Identity
	seen := map[manifest.Key]bool{}
	for _, list := range lists {
		for _, id := range list {
			if k := id.Key(); !current[k] && !seen[k] {
				seen[k] = true
				out = append(out, id)
			}
		}
	}
	return out
}
