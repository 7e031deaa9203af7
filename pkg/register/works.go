package register

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/util/retry"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/deletion"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/release"
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
	// Each Work on its own, as the agent does: one that cannot be released
	// (a blocked cascading delete, a failing object) does not hold back the others.
	var errs []error
	for i := range left.Items {
		errs = append(errs, u.finishWork(ctx, karmada, &left.Items[i]))
	}
	if err := errors.Join(errs...); err != nil {
		return err
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

// finishWork does what the agent does for a deleted Work: it releases the
// member objects the Work owns (release.Releaser.ReleaseAll, the agent's own
// implementation: delete, or strip Karmada's markers with
// preserveResourcesOnDeletion), then removes the execution finalizer.
func (u *unregistration) finishWork(ctx context.Context, karmada versioned.Interface, w *workv1alpha1.Work) error {
	r, err := u.releaser()
	if err != nil {
		return err
	}
	self := manifest.WorkRef{Namespace: w.Namespace, Name: w.Name}
	rep := r.ReleaseAll(ctx, self, r.WorkObjects(w), release.OptionsFor(w, true))
	for _, res := range rep.Results {
		switch res.Action {
		case release.NotOwned:
			u.printf("[member] kept %s: it is not owned by Work %s\n", res.ID, self.Key())
		case release.Deleted, release.Preserved:
			u.printf("[member] %s %s of Work %s\n", res.Action, res.ID, w.Name)
		}
	}
	if rep.Blocked != nil {
		rep.Err = errors.Join(rep.Err, fmt.Errorf("release member %s of Work %s: %w", rep.Blocked.Subject, self.Key(), rep.Blocked))
	}
	if rep.Err != nil {
		return rep.Err
	}
	err = retry.RetryOnConflict(retry.DefaultRetry, func() error {
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

// releaser builds, once, the agent's releaser over the operator's member
// credentials.
func (u *unregistration) releaser() (*release.Releaser, error) {
	if u.release != nil {
		return u.release, nil
	}
	dyn, err := dynamic.NewForConfig(u.Member)
	if err != nil {
		return nil, err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(u.member.Discovery()))
	md, err := metadata.NewForConfig(u.Member)
	if err != nil {
		return nil, err
	}
	applier := apply.New(apply.Config{Client: dyn, Mapper: mapper})
	u.release = release.New(release.Config{Applier: applier, Client: dyn, Blockers: deletion.CascadeCheck(md, u.member.Discovery())})
	return u.release, nil
}
