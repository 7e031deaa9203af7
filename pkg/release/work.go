package release

import (
	"context"
	"errors"
	"fmt"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
)

// OptionsFor reads a Work's wishes for its objects; deleting says whether
// the Work itself is being deleted (preserveResourcesOnDeletion applies
// only then).
func OptionsFor(work *workv1alpha1.Work, deleting bool) Options {
	return Options{
		Preserve: deleting && work.Spec.PreserveResourcesOnDeletion != nil && *work.Spec.PreserveResourcesOnDeletion,
		Cascade:  work.Annotations[workv1alpha1.CascadeDeleteAnnotation] == "true",
	}
}

// Report is what releasing several objects of one Work came to.
type Report struct {
	// Results has one entry per object, in order.
	Results []Result
	// Released holds the keys of the objects that need no further release
	// (deleted, preserved, absent or not the Work's), as given and as scoped.
	Released map[manifest.Key]bool
	// Blocked is the last cascading delete that waits, if any.
	Blocked *BlockedError
	// Err joins the failures, each naming its object and the Work; nil when
	// none failed. A blocked delete is not among them.
	Err error
}

// ReleaseAll releases ids for work, each on its own: a failure or a blocked
// delete does not stop the others. It is what the agent's Work finalizer,
// its garbage collection and 'tether-agent unregister' run.
func (r *Releaser) ReleaseAll(ctx context.Context, work manifest.WorkRef, ids []manifest.Identity, o Options) Report {
	rep := Report{Released: map[manifest.Key]bool{}}
	var errs []error
	for _, id := range ids {
		res := r.Release(ctx, work, id, o)
		rep.Results = append(rep.Results, res)
		switch res.Action {
		case Failed:
			errs = append(errs, fmt.Errorf("release member %s of Work %s: %w", res.ID, work.Key(), res.Err))
			continue
		case Blocked:
			errors.As(res.Err, &rep.Blocked)
			continue
		}
		rep.Released[res.ID.Key()] = true
		rep.Released[id.Key()] = true
	}
	rep.Err = errors.Join(errs...)
	return rep
}

// Candidates merges lists of ids by key, first version first, skipping the
// keys in current (nil: none): the objects to release.
func Candidates(current map[manifest.Key]bool, lists ...[]manifest.Identity) []manifest.Identity {
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
