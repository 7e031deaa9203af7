package aggregate

import (
	"fmt"
	"strings"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Line is the one-line summary of a resource across clusters:
//
//	default/nginx  2/2 ready  (member1 1/1 Healthy, member2 1/1 Healthy)
//
// that is Ref, Summary and ClusterSummary in parentheses, two spaces apart.
func (r *Resource) Line() string {
	return fmt.Sprintf("%s  %s  (%s)", r.Ref(), r.Summary(), r.ClusterSummary())
}

// Summary is "2/2 ready" (ready of desired replicas) for the kinds with
// Replicas, else "1/2 healthy" (clusters reporting Healthy).
func (r *Resource) Summary() string {
	if r.Replicas != nil {
		return fmt.Sprintf("%d/%d ready", r.Replicas.Ready, r.Replicas.Desired)
	}
	healthy := 0
	for _, it := range r.Clusters {
		if it.Health == workv1alpha1.ResourceHealthy {
			healthy++
		}
	}
	return fmt.Sprintf("%d/%d healthy", healthy, len(r.Clusters))
}

// ClusterSummary is each cluster's part, comma-separated:
// "member1 1/1 Healthy", "member1 Healthy" for kinds without Replicas, and
// "member1 not applied" for a Work whose Applied condition is not True.
func (r *Resource) ClusterSummary() string {
	parts := make([]string, len(r.Clusters))
	for i, it := range r.Clusters {
		parts[i] = it.summary()
	}
	return strings.Join(parts, ", ")
}

func (it *Item) summary() string {
	switch {
	case !it.Applied:
		return it.ClusterName + " not applied"
	case it.Replicas != nil:
		return fmt.Sprintf("%s %d/%d %s", it.ClusterName, it.Replicas.Ready, it.Replicas.Desired, it.Health)
	}
	return it.ClusterName + " " + string(it.Health)
}

// AppliedSummary is "2/2": clusters that applied their Work, of all.
func (r *Resource) AppliedSummary() string {
	applied := 0
	for _, it := range r.Clusters {
		if it.Applied {
			applied++
		}
	}
	return fmt.Sprintf("%d/%d", applied, len(r.Clusters))
}
