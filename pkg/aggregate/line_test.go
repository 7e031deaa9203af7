package aggregate

import (
	"testing"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

func TestLine(t *testing.T) {
	healthy, unhealthy := workv1alpha1.ResourceHealthy, workv1alpha1.ResourceUnhealthy
	cases := []struct {
		name        string
		r           Resource
		line        string
		appliedPart string
	}{
		{
			name: "the demo's Deployment",
			r: Resource{Namespace: "default", Name: "nginx", Replicas: &Replicas{2, 2}, Clusters: []Item{
				{ClusterName: "member1", Applied: true, Health: healthy, Replicas: &Replicas{1, 1}},
				{ClusterName: "member2", Applied: true, Health: healthy, Replicas: &Replicas{1, 1}},
			}},
			line:        "default/nginx  2/2 ready  (member1 1/1 Healthy, member2 1/1 Healthy)",
			appliedPart: "2/2",
		},
		{
			name: "a rollout in progress and a cluster that did not apply",
			r: Resource{Namespace: "shop", Name: "cart", Replicas: &Replicas{1, 5}, Clusters: []Item{
				{ClusterName: "edge-1", Applied: true, Health: unhealthy, Replicas: &Replicas{1, 3}},
				{ClusterName: "edge-2", Health: workv1alpha1.ResourceUnknown, Replicas: &Replicas{0, 2}},
			}},
			line:        "shop/cart  1/5 ready  (edge-1 1/3 Unhealthy, edge-2 not applied)",
			appliedPart: "1/2",
		},
		{
			name: "a cluster-scoped kind without replicas counts healthy clusters",
			r: Resource{Name: "team-a", Clusters: []Item{
				{ClusterName: "a", Applied: true, Health: healthy},
				{ClusterName: "b", Applied: true, Health: workv1alpha1.ResourceUnknown},
				{ClusterName: "c", Applied: true, Health: healthy},
			}},
			line:        "team-a  2/3 healthy  (a Healthy, b Unknown, c Healthy)",
			appliedPart: "3/3",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Line(); got != tc.line {
				t.Errorf("Line() = %q, want %q", got, tc.line)
			}
			if got := tc.r.AppliedSummary(); got != tc.appliedPart {
				t.Errorf("AppliedSummary() = %q, want %q", got, tc.appliedPart)
			}
		})
	}
}
