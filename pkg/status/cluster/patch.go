package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// patchStatus merge-patches the Cluster's status from cluster.Status to
// desired when they differ semantically (a Quantity written as "8" equals
// "8000m"). The patch carries only the fields that changed, with nulls for
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
	written, err := c.cfg.Hub.ClusterV1alpha1().Clusters().Patch(ctx, cluster.Name, types.MergePatchType, patch, metav1.PatchOptions{}, "status")
	if err != nil {
		return fmt.Errorf("patch the status of Cluster %s: %w", cluster.Name, err)
	}
	c.written, c.writtenFrom = written, cluster.ResourceVersion
	return nil
}

// statusPatch is the merge patch from cluster.Status to desired, or nil
// when their JSON is the same.
func statusPatch(cluster *clusterv1alpha1.Cluster, desired *clusterv1alpha1.ClusterStatus) ([]byte, error) {
	before, err := json.Marshal(cluster.Status)
	if err != nil {
		return nil, err
	}
	after, err := json.Marshal(desired)
	if err != nil {
		return nil, err
	}
	diff, err := jsonpatch.CreateMergePatch(before, after)
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
