package capacity

import (
	corev1 "k8s.io/api/core/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// modelings counts the usable nodes per grade of models: a node's free
// resources (allocatable minus what its pods request) fall, per resource
// named in the models, into the last grade whose min they reach; the node's
// grade is the lowest of those. A node with no free pod slot, or below every
// grade's min for some resource, is not counted. Unlike Karmada, a full node
// does not stop the count.
func modelings(models []clusterv1alpha1.ResourceModel, nodes []*nodeUse) []clusterv1alpha1.AllocatableModeling {
	names := modelResourceNames(models)
	mins := make([][]int64, len(models))
	for i, m := range models {
		mins[i] = make([]int64, len(names))
		for _, r := range m.Ranges {
			for j, name := range names {
				if r.Name == name {
					mins[i][j] = amount(name, r.Min)
				}
			}
		}
	}
	counts := make([]int, len(models))
	for _, u := range nodes {
		free := u.node.Allocatable.Clone()
		free.Sub(u.used)
		if free.Pods <= 0 {
			continue
		}
		if g := grade(mins, names, free); g >= 0 {
			counts[g]++
		}
	}
	out := make([]clusterv1alpha1.AllocatableModeling, len(models))
	for i, m := range models {
		out[i] = clusterv1alpha1.AllocatableModeling{Grade: m.Grade, Count: counts[i]}
	}
	return out
}

// modelResourceNames are the resources the models grade, in the order of
// the first model's ranges (as Karmada reads them).
func modelResourceNames(models []clusterv1alpha1.ResourceModel) []corev1.ResourceName {
	names := make([]corev1.ResourceName, 0, len(models[0].Ranges))
	for _, r := range models[0].Ranges {
		names = append(names, r.Name)
	}
	return names
}

// grade is the index of the model free resources fall into, or -1.
func grade(mins [][]int64, names []corev1.ResourceName, free Resources) int {
	if len(names) == 0 {
		return -1
	}
	lowest := len(mins) - 1
	for j, name := range names {
		have := free.Get(name)
		last := -1
		for i := range mins {
			if mins[i][j] <= have {
				last = i
			}
		}
		lowest = min(lowest, last)
	}
	return lowest
}
