package sync

import "slices"

// The applied record: per Work key, the objects this process applied, so
// that garbage collection and deletion also find an object whose manifest
// went away before the Work's status listed it. The status is the record
// that survives a restart; this one covers the window until it is written.

// recordApplied adds refs (with versions, for mapping) to the Work's record.
func (c *Controller) recordApplied(key string, refs []objectRef) {
	if len(refs) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.applied[key] = mergeRefs(c.applied[key], refs)
}

// appliedRefs returns a copy of the Work's record.
func (c *Controller) appliedRefs(key string) []objectRef {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.applied[key])
}

// forgetReleased drops from the Work's record the released identities.
func (c *Controller) forgetReleased(key string, released map[objectRef]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if refs, ok := c.applied[key]; ok {
		c.applied[key] = slices.DeleteFunc(refs, func(r objectRef) bool { return released[r.id()] })
	}
}

// forgetApplied drops the Work's record.
func (c *Controller) forgetApplied(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.applied, key)
}

// mergeRefs appends to have the refs of add whose identity it lacks.
func mergeRefs(have, add []objectRef) []objectRef {
	seen := make(map[objectRef]bool, len(have)+len(add))
	for _, r := range have {
		seen[r.id()] = true
	}
	for _, r := range add {
		if !seen[r.id()] {
			seen[r.id()] = true
			have = append(have, r)
		}
	}
	return slices.Clip(have)
}

// releaseCandidates merges lists of refs by identity, first version first,
// skipping the identities in current (nil: none): the objects to release.
func releaseCandidates(current map[objectRef]bool, lists ...[]objectRef) []objectRef {
	var out []objectRef
	seen := map[objectRef]bool{}
	for _, list := range lists {
		for _, r := range list {
			if id := r.id(); !current[id] && !seen[id] {
				seen[id] = true
				out = append(out, r)
			}
		}
	}
	return out
}
