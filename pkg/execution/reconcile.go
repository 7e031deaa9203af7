package execution

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/pkg/manifest"
	statuswork "github.com/tether-io/tether/pkg/status/work"
)

// reconcile brings the member in line with one Work. It returns an error
// only for what a retry may fix.
func (c *Controller) reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	work, err := c.works.Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ns != work.Namespace {
		return nil
	}
	log := klog.FromContext(ctx).WithValues("work", key, "generation", work.Generation)
	ctx = klog.NewContext(ctx, log)
	if !work.DeletionTimestamp.IsZero() {
		return c.finalize(ctx, work)
	}
	if err := c.ensureFinalizer(ctx, work); err != nil {
		return err
	}
	ms := manifest.DecodeWork(work)
	c.scopeManifests(ms)
	outcome := statuswork.ApplyOutcome{Generation: work.Generation, Results: map[int]manifest.Result{}}
	if work.Spec.SuspendDispatching != nil && *work.Spec.SuspendDispatching {
		// No member writes; status collection goes on for what exists.
		c.watchKinds(ms)
		outcome.Dispatching = condition(workv1alpha1.WorkDispatching, metav1.ConditionFalse,
			workv1alpha1.ReasonSuspendDispatching, workv1alpha1.MessageSuspendDispatching, work.Generation)
		c.writer.SetOutcome(key, outcome)
		return nil
	}
	outcome.Dispatching = condition(workv1alpha1.WorkDispatching, metav1.ConditionTrue,
		workv1alpha1.ReasonDispatching, workv1alpha1.MessageDispatching, work.Generation)
	renderErr := c.render(work, ms)
	markDuplicates(ms)
	transient := c.applyManifests(ctx, work, ms, renderErr, &outcome)
	if renderErr != nil {
		transient = append(transient, renderErr)
	}
	gcErr := c.collectGarbage(ctx, work, ms)
	outcome.Applied = appliedCondition(ms, outcome.Results, work.Generation)
	c.writer.SetOutcome(key, outcome)
	if len(transient) > 0 || gcErr != nil {
		return errors.Join(append(transient, gcErr)...)
	}
	return nil
}

// appliedCondition is the Work's Applied condition for the per-manifest errors.
func appliedCondition(ms []manifest.Manifest, results map[int]manifest.Result, generation int64) *metav1.Condition {
	var failures []error
	for _, m := range ms {
		if r := results[m.Ordinal]; r.Err != nil {
			failures = append(failures, r.Err)
		}
	}
	if len(failures) == 0 {
		return condition(workv1alpha1.WorkApplied, metav1.ConditionTrue,
			workv1alpha1.ReasonAppliedSuccessful, workv1alpha1.MessageAppliedSuccessful, generation)
	}
	msg := fmt.Sprintf(workv1alpha1.MessageAppliedFailedFormat, len(ms)-len(failures), len(ms),
		utilerrors.NewAggregate(failures).Error())
	return condition(workv1alpha1.WorkApplied, metav1.ConditionFalse,
		workv1alpha1.ReasonAppliedFailed, statuswork.TruncateMessage(msg), generation)
}

// applyManifests applies the usable manifests in dependency order and
// reports each manifest's result; it returns the transient errors for
// retry. A manifest failed with renderErr waits for the Cluster: not terminal.
func (c *Controller) applyManifests(ctx context.Context, work *workv1alpha1.Work, ms []manifest.Manifest, renderErr error, outcome *statuswork.ApplyOutcome) []error {
	self := manifest.WorkRef{Namespace: work.Namespace, Name: work.Name}
	var objs []*unstructured.Unstructured
	var ordinals []int
	for _, m := range ms {
		if !m.Usable() {
			outcome.Results[m.Ordinal] = manifest.Result{Err: m.Err, Terminal: renderErr == nil || m.Err != renderErr}
			continue
		}
		desired := m.Object.DeepCopy()
		manifest.Stamp(desired, self)
		objs = append(objs, desired)
		ordinals = append(ordinals, m.Ordinal)
	}
	c.primeCaches(ctx, objs)
	cs := c.applier.ApplyAll(ctx, objs, apply.Options{Owned: ownedBy(self), TakeOver: c.takeOver(self)})
	var transient []error
	var done []manifest.Identity
	for i, e := range cs {
		ordinal := ordinals[i]
		if e.GVR.Resource != "" {
			c.member.Ensure(e.GVR)
		}
		noteDrift(outcome, c.scopeID(manifest.IdentityOf(objs[i])), e)
		if e.Err != nil {
			outcome.Results[ordinal] = manifest.Result{Err: e.Err, Terminal: !apply.IsTransient(e.Err)}
			if apply.IsTransient(e.Err) {
				transient = append(transient, e.Err)
			}
			continue
		}
		done = append(done, c.scopeID(manifest.IdentityOf(objs[i])))
		if e.Object != nil {
			c.member.Applied(e.GVR, e.Object)
		}
		if e.Action != apply.Unchanged {
			klog.FromContext(ctx).V(3).Info("Applied", "object", e.Subject, "action", e.Action)
		}
	}
	c.member.AddApplied(self.Key(), done)
	return transient
}

// primeCaches starts the member informers of the objects' kinds and waits
// briefly for new ones to sync; kinds not served yet (a CRD in the same Work)
// are skipped.
func (c *Controller) primeCaches(ctx context.Context, objs []*unstructured.Unstructured) {
	for _, obj := range objs {
		mapping, err := c.kinds.Mapping(obj)
		if err != nil {
			continue
		}
		c.member.Ensure(mapping.Resource)
		c.member.WaitSynced(ctx, mapping.Resource, 5*time.Second)
	}
}

// watchKinds starts member informers for the manifests' kinds, so that the
// status of a suspended Work is still collected.
func (c *Controller) watchKinds(ms []manifest.Manifest) {
	for _, m := range ms {
		if !m.Usable() {
			continue
		}
		if mapping, err := c.kinds.Mapping(m.Object); err == nil {
			c.member.Ensure(mapping.Resource)
		}
	}
}

// ensureFinalizer adds karmada.io/execution-controller when the Work's
// producer did not, so the member objects are cleaned up on deletion.
func (c *Controller) ensureFinalizer(ctx context.Context, work *workv1alpha1.Work) error {
	for _, f := range work.Finalizers {
		if f == workv1alpha1.ExecutionControllerFinalizer {
			return nil
		}
	}
	return c.patchFinalizers(ctx, work, append(append([]string{}, work.Finalizers...), workv1alpha1.ExecutionControllerFinalizer))
}

// patchFinalizers sets the Work's finalizers, guarded by its resourceVersion:
// with a merge patch, or, when the hub identity may not patch Works (a
// Karmada control plane grants update only), with an Update.
func (c *Controller) patchFinalizers(ctx context.Context, work *workv1alpha1.Work, finalizers []string) error {
	if finalizers == nil {
		finalizers = []string{}
	}
	var err error
	if c.cfg.Access.Has(hubaccess.WorkPatch) {
		body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": finalizers, "resourceVersion": work.ResourceVersion}})
		_, err = c.cfg.Hub.WorkV1alpha1().Works(work.Namespace).Patch(ctx, work.Name, types.MergePatchType, body, metav1.PatchOptions{})
	} else {
		err = c.updateFinalizers(ctx, work, slices.Contains(finalizers, workv1alpha1.ExecutionControllerFinalizer))
	}
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update finalizers of Work %s/%s: %w", work.Namespace, work.Name, err)
	}
	return nil
}

// updateFinalizers adds (want) or removes the execution finalizer with an
// Update of the Work as the cache holds it; on a conflict it reads the Work
// again and makes the same change to what it read, leaving the other
// finalizers as they are.
func (c *Controller) updateFinalizers(ctx context.Context, work *workv1alpha1.Work, want bool) error {
	works := c.cfg.Hub.WorkV1alpha1().Works(work.Namespace)
	next := work.DeepCopy()
	next.Finalizers = withExecutionFinalizer(work.Finalizers, want)
	return retry.RetryOnConflict(retry.DefaultRetry, func() error {
		_, err := works.Update(ctx, next, metav1.UpdateOptions{})
		if !apierrors.IsConflict(err) {
			return err
		}
		fresh, gerr := works.Get(ctx, work.Name, metav1.GetOptions{})
		if gerr != nil {
			return gerr
		}
		if slices.Contains(fresh.Finalizers, workv1alpha1.ExecutionControllerFinalizer) == want {
			return nil // done by someone else
		}
		next = fresh
		next.Finalizers = withExecutionFinalizer(fresh.Finalizers, want)
		return err // retried
	})
}

// withExecutionFinalizer is finalizers with the execution finalizer added
// (want) or removed.
func withExecutionFinalizer(finalizers []string, want bool) []string {
	out := slices.DeleteFunc(slices.Clone(finalizers), func(f string) bool { return f == workv1alpha1.ExecutionControllerFinalizer })
	if want {
		out = append(out, workv1alpha1.ExecutionControllerFinalizer)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

func condition(typ string, status metav1.ConditionStatus, reason, message string, generation int64) *metav1.Condition {
	return &metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: generation}
}
