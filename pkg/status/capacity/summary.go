package capacity

import (
	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// nodeUse is a usable node and what the pods bound to it request.
type nodeUse struct {
	node *Node
	used Resources
}

// Summarize computes status.nodeSummary and status.resourceSummary from the
// member's nodes and pods. allocatableModelings is filled only when models
// (the Cluster's spec.resourceModels) is not empty.
func Summarize(nodes []*Node, pods []*Pod, models []clusterv1alpha1.ResourceModel) (*clusterv1alpha1.NodeSummary, *clusterv1alpha1.ResourceSummary) {
	summary := &clusterv1alpha1.NodeSummary{TotalNum: int32(len(nodes))}
	var allocatable Resources
	usable := make([]*nodeUse, 0, len(nodes))
	byName := make(map[string]*nodeUse, len(nodes))
	for _, n := range nodes {
		if n.Ready {
			summary.ReadyNum++
		}
		if n.usable() {
			allocatable.Add(n.Allocatable)
			u := &nodeUse{node: n}
			usable = append(usable, u)
			byName[n.Name] = u
		}
	}

	var allocating, allocated Resources
	for _, p := range pods {
		if !p.usesResources() {
			continue
		}
		if p.NodeName == "" {
			allocating.Add(p.Requests)
			allocating.Pods++
			continue
		}
		u, ok := byName[p.NodeName]
		if !ok {
			continue // bound to a node that cannot take pods, or not cached yet
		}
		allocated.Add(p.Requests)
		allocated.Pods++
		u.used.Add(p.Requests)
		u.used.Pods++
	}

	resources := &clusterv1alpha1.ResourceSummary{
		Allocatable: allocatable.List(),
		Allocating:  allocating.List(),
		Allocated:   allocated.List(),
	}
	if len(models) > 0 {
		resources.AllocatableModelings = modelings(models, usable)
	}
	return summary, resources
}
