package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/retry"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// patchStatus merge-patches the Cluster's status from cluster.Status to
// desired (or updates it, with StatusConfig.UpdateStatus) when they differ
// semantically (a Quantity written as "8" equals "8000m"). The patch carries only the fields that changed, with nulls for
// the ones that went away, plus the resourceVersion it was computed from:
// conditions is a list that a merge patch replaces whole, so a condition
// another writer added in between makes the patch conflict instead of
// being dropped. A conflict is retried at the next collection, from the
// watch cache, which by then holds the other writer's change.
func (c *StatusController) patchStatus(ctx context.Context, cluster *clusterv1alpha1.Cluster, desired *clusterv1alpha1.ClusterStatus) error {
	if equality.Semantic.DeepEqual(&cluster.Status, desired) {
		return nil
	}
	patch, err := statusPatch(cluster, desired)
	if err != nil || patch == nil {
		return err
	}
	var written *clusterv1alpha1.Cluster
	if c.cfg.UpdateStatus {
		written, err = c.updateStatus(ctx, cluster, desired)
	} else {
		written, err = c.cfg.Hub.ClusterV1alpha1().Clusters().Patch(ctx, cluster.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	}
	if err != nil {
		return fmt.Errorf("write the status of Cluster %s: %w", cluster.Name, err)
	}
	if written != nil {
		c.written, c.writtenFrom = written, cluster.ResourceVersion
	}
	return nil
}

// updateStatus writes desired with an Update of clusters/status, for an
// identity that may update the status but not patch it (what a Karmada
// control plane grants). The first Update carries the resourceVersion the
// status was computed from; on a conflict the Cluster is read again, the
// change from cluster.Status to desired is made to what was read (field by
// field, and condition by condition, so a condition another writer added
// in between is kept), and the Update is retried; nothing is written when
// the change is there already. It returns nil, nil when nothing was written.
func (c *StatusController) updateStatus(ctx context.Context, cluster *clusterv1alpha1.Cluster, desired *clusterv1alpha1.ClusterStatus) (*clusterv1alpha1.Cluster, error) {
	clusters := c.cfg.Hub.ClusterV1alpha1().Clusters()
	next := cluster.DeepCopy()
	next.Status = *desired.DeepCopy()
	var written *clusterv1alpha1.Cluster
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		out, err := clusters.UpdateStatus(ctx, next, metav1.UpdateOptions{})
		if !apierrors.IsConflict(err) {
			written = out
			return err
		}
		fresh, gerr := clusters.Get(ctx, cluster.Name, metav1.GetOptions{})
		if gerr != nil {
			return gerr
		}
		rebased, rerr := rebaseStatus(&fresh.Status, &cluster.Status, desired)
		if rerr != nil {
			return rerr
		}
		if equality.Semantic.DeepEqual(&fresh.Status, rebased) {
			return nil // the change is there already
		}
		next = fresh
		next.Status = *rebased
		return err // retried
	})
	return written, err
}

// rebaseStatus makes the change from before to after to fresh: the fields
// but the conditions with a merge patch, and the conditions by type.
func rebaseStatus(fresh, before, after *clusterv1alpha1.ClusterStatus) (*clusterv1alpha1.ClusterStatus, error) {
	b, a := before.DeepCopy(), after.DeepCopy()
	b.Conditions, a.Conditions = nil, nil
	diff, err := mergeDiff(b, a)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(fresh)
	if err != nil {
		return nil, err
	}
	if raw, err = jsonpatch.MergePatch(raw, diff); err != nil {
		return nil, err
	}
	out := &clusterv1alpha1.ClusterStatus{}
	if err := json.Unmarshal(raw, out); err != nil {
		return nil, err
	}
	for _, cond := range after.Conditions {
		if old := meta.FindStatusCondition(before.Conditions, cond.Type); old == nil || !equality.Semantic.DeepEqual(*old, cond) {
			meta.SetStatusCondition(&out.Conditions, cond)
		}
	}
	for _, cond := range before.Conditions {
		if meta.FindStatusCondition(after.Conditions, cond.Type) == nil {
			meta.RemoveStatusCondition(&out.Conditions, cond.Type)
		}
	}
	return out, nil
}

// statusPatch is the merge patch from cluster.Status to desired, or nil
// when their JSON is the same.
func statusPatch(cluster *clusterv1alpha1.Cluster, desired *clusterv1alpha1.ClusterStatus) ([]byte, error) {
	diff, err := mergeDiff(cluster.Status, desired)
	if err != nil {
		return nil, err
	}
	if string(diff) == "{}" {
		return nil, nil
	}
	return json.Marshal(map[string]any{
		"metadata": map[string]any{"resourceVersion": cluster.ResourceVersion},
		"status":   json.RawMessage(diff),
	})
}

// mergeDiff is the JSON merge patch that turns before into after.
func mergeDiff(before, after any) ([]byte, error) {
	b, err := json.Marshal(before)
	if err != nil {
		return nil, err
	}
	a, err := json.Marshal(after)
	if err != nil {
		return nil, err
	}
	return jsonpatch.CreateMergePatch(b, a)
}
