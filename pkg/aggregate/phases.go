package aggregate

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// phaseStatus is the aggregated status of the kinds reduced to a phase.
type phaseStatus struct {
	Phase string `json:"phase,omitempty"`
}

// firstPhase returns the first of precedence that was seen, or "" when none
// (a phase Karmada does not know about).
func firstPhase(seen map[string]bool, precedence ...string) string {
	if i := slices.IndexFunc(precedence, func(p string) bool { return seen[p] }); i >= 0 {
		return precedence[i]
	}
	return ""
}

// containerState is a container status reduced to what Karmada keeps.
type containerState struct {
	Ready bool                  `json:"ready"`
	State corev1.ContainerState `json:"state"`
}

type podStatus struct {
	Phase                 string           `json:"phase,omitempty"`
	ContainerStatuses     []containerState `json:"containerStatuses,omitempty"`
	InitContainerStatuses []containerState `json:"initContainerStatuses,omitempty"`
}

// pod: phase by precedence Failed > Pending (also a cluster with no status
// yet) > Running > Succeeded; container and init container statuses reduced
// to ready and state, concatenated in cluster order.
func pod(_ *unstructured.Unstructured, items []Item) (any, error) {
	var out podStatus
	seen := map[string]bool{}
	for _, it := range items {
		var s corev1.PodStatus
		ok, err := decode(it, &s)
		if err != nil {
			return nil, err
		}
		if !ok {
			seen[string(corev1.PodPending)] = true
			continue
		}
		seen[string(s.Phase)] = true
		for _, c := range s.ContainerStatuses {
			out.ContainerStatuses = append(out.ContainerStatuses, containerState{c.Ready, c.State})
		}
		for _, c := range s.InitContainerStatuses {
			out.InitContainerStatuses = append(out.InitContainerStatuses, containerState{c.Ready, c.State})
		}
	}
	out.Phase = firstPhase(seen, string(corev1.PodFailed), string(corev1.PodPending), string(corev1.PodRunning), string(corev1.PodSucceeded))
	return out, nil
}

// persistentVolume: phase by precedence Failed > Pending (also a cluster
// with no status yet) > Available > Bound > Released.
func persistentVolume(_ *unstructured.Unstructured, items []Item) (any, error) {
	seen := map[string]bool{}
	for _, it := range items {
		var s corev1.PersistentVolumeStatus
		ok, err := decode(it, &s)
		if err != nil {
			return nil, err
		}
		if !ok {
			s.Phase = corev1.VolumePending
		}
		seen[string(s.Phase)] = true
	}
	return phaseStatus{firstPhase(seen, string(corev1.VolumeFailed), string(corev1.VolumePending),
		string(corev1.VolumeAvailable), string(corev1.VolumeBound), string(corev1.VolumeReleased))}, nil
}

// persistentVolumeClaim: Lost if a cluster reports Lost, else the last
// phase other than Bound reported, else Bound. Clusters without a status
// do not count.
func persistentVolumeClaim(_ *unstructured.Unstructured, items []Item) (any, error) {
	out := phaseStatus{string(corev1.ClaimBound)}
	for _, it := range items {
		var s corev1.PersistentVolumeClaimStatus
		ok, err := decode(it, &s)
		if err != nil {
			return nil, err
		}
		switch {
		case !ok || s.Phase == corev1.ClaimBound:
		case s.Phase == corev1.ClaimLost:
			return phaseStatus{string(corev1.ClaimLost)}, nil
		default:
			out.Phase = string(s.Phase)
		}
	}
	return out, nil
}
