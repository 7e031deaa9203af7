package execution

import (
	"context"
	"errors"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/klog/v2"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/execution/queue"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/release"
)

// EventDeletionBlocked is the reason of the Warning posted on a Work whose
// Namespace or CRD delete waits because it would cascade into objects the
// agent does not own.
const EventDeletionBlocked = "DeletionBlocked"

// blockedRetry is how often a blocked cascading delete is tried again.
const blockedRetry = 30 * time.Second

// finalize handles a Work observed terminating: it releases its member
// objects (release.Releaser: delete, or preserve), then removes the
// finalizer. Objects already gone, kinds no longer served, and objects that
// belong to another Work or to nobody are skipped, so deletion never wedges
// and never touches what is not the Work's.
func (c *Controller) finalize(ctx context.Context, work *workv1alpha1.Work) error {
	var rest []string
	hasFinalizer := false
	for _, f := range work.Finalizers {
		if f == workv1alpha1.ExecutionControllerFinalizer {
			hasFinalizer = true
		} else {
			rest = append(rest, f)
		}
	}
	if !hasFinalizer {
		return nil
	}
	if ok, why := c.deletesAllowed(work); !ok {
		klog.FromContext(ctx).V(2).Info("Member deletes of the Work are held", "reason", why)
		return nil // the guard requeues the Work when it releases it
	}
	key := work.Namespace + "/" + work.Name
	ids := release.Candidates(nil, c.releaser.WorkObjects(work), c.member.AppliedBy(key))
	if err := c.releaseAll(ctx, work, ids, release.OptionsFor(work, true)); err != nil {
		return err
	}
	c.member.ForgetWork(key)
	c.writer.Forget(key)
	return c.patchFinalizers(ctx, work, rest)
}

// collectGarbage releases the member objects of manifests removed from the
// Work: objects the Work's status or this process's applied set list as applied
// whose identity is no longer among the manifests.
func (c *Controller) collectGarbage(ctx context.Context, work *workv1alpha1.Work, ms []manifest.Manifest) error {
	current := map[manifest.Key]bool{}
	for _, m := range ms {
		if m.Object == nil {
			return nil // a manifest that cannot be read might be one of them: collect nothing
		}
		current[m.ID.Key()] = true
	}
	key := work.Namespace + "/" + work.Name
	ids := release.Candidates(current, c.statusIDs(work), c.member.AppliedBy(key))
	if len(ids) == 0 {
		return nil
	}
	return c.releaseAll(ctx, work, ids, release.OptionsFor(work, false))
}

// releaseAll releases ids for work (release.Releaser.ReleaseAll) and drops
// the released ones from the applied set. A cascading delete that waits
// posts a Warning and is retried later; other failures are returned for
// retry with backoff.
func (c *Controller) releaseAll(ctx context.Context, work *workv1alpha1.Work, ids []manifest.Identity, o release.Options) error {
	log := klog.FromContext(ctx)
	self := manifest.WorkRef{Namespace: work.Namespace, Name: work.Name}
	rep := c.releaser.ReleaseAll(ctx, self, ids, o)
	for _, res := range rep.Results {
		if res.Action == release.Deleted || res.Action == release.Preserved {
			log.V(2).Info("Released member object", "object", res.ID.String(), "action", res.Action)
		}
	}
	c.member.Released(self.Key(), rep.Released)
	errs := []error{rep.Err}
	if rep.Blocked != nil {
		c.warnBlocked(work, rep.Blocked)
		c.queue.AddAfter(self.Key(), queue.High, blockedRetry)
		errs = append(errs, errWaiting)
	}
	return errors.Join(errs...)
}

// errWaiting marks a reconcile that is not done but is already requeued.
var errWaiting = errors.New("waiting")

// warnBlocked posts one Warning per blocked delete; the message is the
// same on every retry, so the Event is counted up, not repeated.
func (c *Controller) warnBlocked(work *workv1alpha1.Work, err *release.BlockedError) {
	if c.recorder != nil {
		c.recorder.Event(work, corev1.EventTypeWarning, EventDeletionBlocked, err.Error())
	}
}

// deletesAllowed asks the bulk-deletion guard whether the member deletes of
// a terminating Work may go ahead (always, without a guard).
func (c *Controller) deletesAllowed(work *workv1alpha1.Work) (bool, string) {
	if c.guard == nil {
		return true, ""
	}
	return c.guard.Allow(work)
}
