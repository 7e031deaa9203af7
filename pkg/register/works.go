package register

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/util/retry"
	"k8s.io/klog/v2"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
)

// deleteWorks deletes the cluster's Works. A running agent removes their
// member objects and finalizers; when the agent is gone (or does not
// finish within --wait) unregister does it itself.
func (u *unregistration) deleteWorks(ctx context.Context, karmada versioned.Interface) error {
	ns := workv1alpha1.ExecutionNamespace(u.opts.Cluster)
	works := karmada.WorkV1alpha1().Works(ns)
	list, err := works.List(ctx, metav1.ListOptions{})
	if apierrors.IsNotFound(err) || (err == nil && len(list.Items) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("list the Works in %s: %w", ns, err)
	}
	for _, w := range list.Items {
		if err := works.Delete(ctx, w.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("delete Work %s/%s: %w", ns, w.Name, err)
		}
	}
	u.printf("[hub] deleted %d Works in %s\n", len(list.Items), ns)
	if u.agentRunning(ctx) {
		u.printf("[hub] waiting up to %s for the agent to remove their member objects\n", u.opts.Wait)
		if u.waitNoWorks(ctx, karmada, u.opts.Wait) {
			return nil
		}
		u.printf("[hub] the agent did not finish; removing the member objects directly\n")
	}
	left, err := works.List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("list the Works in %s: %w", ns, err)
	}
	for i := range left.Items {
		if err := u.finishWork(ctx, karmada, &left.Items[i]); err != nil {
			return err
		}
	}
	if !u.waitNoWorks(ctx, karmada, u.opts.Wait) {
		return fmt.Errorf("Works remain in %s after %s: check their finalizers", ns, u.opts.Wait)
	}
	return nil
}

func (u *unregistration) waitNoWorks(ctx context.Context, karmada versioned.Interface, timeout time.Duration) bool {
	ns := workv1alpha1.ExecutionNamespace(u.opts.Cluster)
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		list, err := karmada.WorkV1alpha1().Works(ns).List(ctx, metav1.ListOptions{})
		return err == nil && len(list.Items) == 0, nil
	})
	return err == nil
}

// agentRunning reports whether the agent is alive as the hub sees it:
// its cluster Lease was renewed within its duration.
func (u *unregistration) agentRunning(ctx context.Context) bool {
	cs, err := kubernetes.NewForConfig(u.hubCfg)
	if err != nil {
		return false
	}
	lease, err := cs.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Get(ctx, u.opts.Cluster, metav1.GetOptions{})
	if err != nil || lease.Spec.RenewTime == nil {
		return false
	}
	duration := 40 * time.Second
	if d := lease.Spec.LeaseDurationSeconds; d != nil {
		duration = time.Duration(*d) * time.Second
	}
	return time.Since(lease.Spec.RenewTime.Time) < duration
}

// finishWork does what the agent does for a deleted Work: it deletes the
// member objects the Work owns (unless preserveResourcesOnDeletion), then
// removes the execution finalizer.
func (u *unregistration) finishWork(ctx context.Context, karmada versioned.Interface, w *workv1alpha1.Work) error {
	preserve := w.Spec.PreserveResourcesOnDeletion != nil && *w.Spec.PreserveResourcesOnDeletion
	if !preserve {
		for _, m := range w.Spec.Workload.Manifests {
			if err := u.deleteManifest(ctx, w, m.Raw); err != nil {
				return err
			}
		}
	}
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		live, err := karmada.WorkV1alpha1().Works(w.Namespace).Get(ctx, w.Name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		i := slices.Index(live.Finalizers, workv1alpha1.ExecutionControllerFinalizer)
		if i < 0 {
			return nil
		}
		live.Finalizers = slices.Delete(live.Finalizers, i, i+1)
		_, err = karmada.WorkV1alpha1().Works(w.Namespace).Update(ctx, live, metav1.UpdateOptions{})
		return err
	})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("remove the finalizer of Work %s/%s: %w", w.Namespace, w.Name, err)
	}
	return nil
}

// deleteManifest deletes the member object of one manifest if the Work
// owns it: it carries karmada.io/managed and points back to this Work.
func (u *unregistration) deleteManifest(ctx context.Context, w *workv1alpha1.Work, raw []byte) error {
	obj := &unstructured.Unstructured{}
	if err := json.Unmarshal(raw, &obj.Object); err != nil {
		klog.FromContext(ctx).Info("Skipping an unreadable manifest", "work", w.Name, "err", err)
		return nil
	}
	gvk := obj.GroupVersionKind()
	mapping, err := u.mapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		klog.FromContext(ctx).Info("Skipping a manifest of a kind the member does not serve", "work", w.Name, "kind", gvk)
		return nil
	}
	dyn, err := dynamic.NewForConfig(u.Member)
	if err != nil {
		return err
	}
	ri := dynamic.ResourceInterface(dyn.Resource(mapping.Resource))
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ri = dyn.Resource(mapping.Resource).Namespace(obj.GetNamespace())
	}
	live, err := ri.Get(ctx, obj.GetName(), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read member %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	owned := live.GetLabels()[workv1alpha1.ManagedLabel] == workv1alpha1.ManagedLabelValue &&
		live.GetAnnotations()[workv1alpha1.WorkNameAnnotation] == w.Name &&
		live.GetAnnotations()[workv1alpha1.WorkNamespaceAnnotation] == w.Namespace
	if !owned {
		u.printf("[member] kept %s %s: it is not owned by Work %s/%s\n", gvk.Kind, obj.GetName(), w.Namespace, w.Name)
		return nil
	}
	policy := metav1.DeletePropagationBackground
	if err := ri.Delete(ctx, obj.GetName(), metav1.DeleteOptions{PropagationPolicy: &policy}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete member %s %s: %w", gvk.Kind, obj.GetName(), err)
	}
	u.printf("[member] deleted %s %s of Work %s\n", gvk.Kind, obj.GetName(), w.Name)
	return nil
}

func (u *unregistration) mapper() meta.RESTMapper {
	if u.restMapper == nil {
		u.restMapper = restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(u.member.Discovery()))
	}
	return u.restMapper
}
