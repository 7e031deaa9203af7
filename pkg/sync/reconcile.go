package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/override"
	statuswork "github.com/tether-io/tether/pkg/status/work"
	"github.com/tether-io/tether/pkg/sync/apply"
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
		err := c.finalize(ctx, work)
		c.warnIfFenced(work, err)
		return err
	}
	if err := c.ensureFinalizer(ctx, work); err != nil {
		return err
	}
	manifests := decodeManifests(work)
	outcome := statuswork.ApplyOutcome{Generation: work.Generation, Errors: map[int]string{}}
	if work.Spec.SuspendDispatching != nil && *work.Spec.SuspendDispatching {
		// No member writes; status collection goes on for what exists.
		c.watchKinds(manifests)
		outcome.Dispatching = condition(workv1alpha1.WorkDispatching, metav1.ConditionFalse,
			workv1alpha1.ReasonSuspendDispatching, workv1alpha1.MessageSuspendDispatching, work.Generation)
		c.writer.SetOutcome(key, outcome)
		return nil
	}
	outcome.Dispatching = condition(workv1alpha1.WorkDispatching, metav1.ConditionTrue,
		workv1alpha1.ReasonDispatching, workv1alpha1.MessageDispatching, work.Generation)
	c.render(work, manifests)
	transient := c.applyManifests(ctx, work, manifests, &outcome)
	gcErr := c.collectGarbage(ctx, work, manifests)
	c.warnIfFenced(work, gcErr)

	var failures []error
	for _, m := range manifests {
		if msg, ok := outcome.Errors[m.ordinal]; ok {
			failures = append(failures, errors.New(msg))
		}
	}
	if len(failures) == 0 {
		outcome.Applied = condition(workv1alpha1.WorkApplied, metav1.ConditionTrue,
			workv1alpha1.ReasonAppliedSuccessful, workv1alpha1.MessageAppliedSuccessful, work.Generation)
	} else {
		msg := fmt.Sprintf(workv1alpha1.MessageAppliedFailedFormat, len(manifests)-len(failures), len(manifests),
			utilerrors.NewAggregate(failures).Error())
		outcome.Applied = condition(workv1alpha1.WorkApplied, metav1.ConditionFalse,
			workv1alpha1.ReasonAppliedFailed, statuswork.TruncateMessage(msg), work.Generation)
	}
	c.writer.SetOutcome(key, outcome)
	if len(transient) > 0 || gcErr != nil {
		return errors.Join(append(transient, gcErr)...)
	}
	return nil
}

// render runs the edge overrides into the manifests, unless the hub already
// did. A policy fault fails only the manifests it touches.
func (c *Controller) render(work *workv1alpha1.Work, manifests []decoded) {
	if ok, _ := override.ShouldRender(c.cfg.RenderMode, work); !ok {
		return
	}
	cluster, err := c.clusters.Get(c.cfg.ClusterName)
	if err != nil {
		cluster = &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: c.cfg.ClusterName}}
	}
	policies := override.Policies{}
	if c.cops != nil {
		policies.ClusterOverridePolicies, _ = c.cops.List(everything)
		policies.OverridePolicies, _ = c.ops.List(everything)
	}
	if len(policies.ClusterOverridePolicies) == 0 && len(policies.OverridePolicies) == 0 {
		return
	}
	for i := range manifests {
		m := &manifests[i]
		if m.err != nil {
			continue
		}
		res, err := override.Render(m.obj, cluster, policies)
		if err != nil {
			m.err = fmt.Errorf("overrides could not be rendered: %w", err) // err names the object and the policy
			continue
		}
		m.obj = res.Object
		// Record on the member object what the edge applied, in Karmada's
		// applied-overrides format (not on the Work: there it would mean the
		// hub rendered it).
		if ann, err := res.Applied.Annotations(); err == nil && len(ann) > 0 {
			a := m.obj.GetAnnotations()
			if a == nil {
				a = map[string]string{}
			}
			for k, v := range ann {
				a[k] = v
			}
			m.obj.SetAnnotations(a)
		}
	}
}

// applyManifests applies the usable manifests in dependency order and
// records per-manifest errors; it returns the transient ones for retry.
func (c *Controller) applyManifests(ctx context.Context, work *workv1alpha1.Work, manifests []decoded, outcome *statuswork.ApplyOutcome) []error {
	var objs []*unstructured.Unstructured
	var ordinals []int
	for _, m := range manifests {
		if m.err != nil {
			outcome.Errors[m.ordinal] = m.err.Error()
			continue
		}
		desired := m.obj.DeepCopy()
		stamp(desired, work)
		objs = append(objs, desired)
		ordinals = append(ordinals, m.ordinal)
	}
	c.primeCaches(ctx, objs)
	cs := c.applier.ApplyAll(ctx, objs, apply.Options{Owned: managed, TakeOver: takeOver})
	var transient []error
	var done []objectRef
	for i, e := range cs {
		ordinal := ordinals[i]
		if e.GVR.Resource != "" {
			c.member.Ensure(e.GVR)
		}
		if e.Err != nil {
			outcome.Errors[ordinal] = e.Err.Error()
			if apply.IsTransient(e.Err) {
				transient = append(transient, e.Err)
			}
			continue
		}
		done = append(done, refOf(objs[i]))
		if e.Object != nil {
			c.rememberFresh(e.GVR, e.Object)
		}
		if e.Action != apply.Unchanged {
			klog.FromContext(ctx).V(3).Info("Applied", "object", e.Subject, "action", e.Action)
		}
	}
	c.recordApplied(work.Namespace+"/"+work.Name, done)
	return transient
}

// primeCaches starts the member informers of the objects' kinds and waits
// briefly for new ones to sync; kinds not served yet (a CRD in the same Work)
// are skipped.
func (c *Controller) primeCaches(ctx context.Context, objs []*unstructured.Unstructured) {
	for _, obj := range objs {
		mapping, err := c.applier.Mapping(obj)
		if err != nil {
			continue
		}
		c.member.Ensure(mapping.Resource)
		c.member.WaitSynced(ctx, mapping.Resource, 5*time.Second)
	}
}

// watchKinds starts member informers for the manifests' kinds, so that the
// status of a suspended Work is still collected.
func (c *Controller) watchKinds(manifests []decoded) {
	for _, m := range manifests {
		if m.err != nil {
			continue
		}
		if mapping, err := c.applier.Mapping(m.obj); err == nil {
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

// patchFinalizers sets the Work's finalizers, guarded by its resourceVersion.
func (c *Controller) patchFinalizers(ctx context.Context, work *workv1alpha1.Work, finalizers []string) error {
	if finalizers == nil {
		finalizers = []string{}
	}
	body, _ := json.Marshal(map[string]any{"metadata": map[string]any{"finalizers": finalizers, "resourceVersion": work.ResourceVersion}})
	_, err := c.cfg.Hub.WorkV1alpha1().Works(work.Namespace).Patch(ctx, work.Name, types.MergePatchType, body, metav1.PatchOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("update finalizers of Work %s/%s: %w", work.Namespace, work.Name, err)
	}
	return nil
}

func condition(typ string, status metav1.ConditionStatus, reason, message string, generation int64) *metav1.Condition {
	return &metav1.Condition{Type: typ, Status: status, Reason: reason, Message: message, ObservedGeneration: generation}
}
