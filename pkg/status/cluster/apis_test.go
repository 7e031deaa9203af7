package cluster

import (
	"testing"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

func resourceOf(name, kind string) apidiscoveryv2.APIResourceDiscovery {
	return apidiscoveryv2.APIResourceDiscovery{Resource: name, ResponseKind: &metav1.GroupVersionKind{Kind: kind},
		Subresources: []apidiscoveryv2.APISubresourceDiscovery{{Subresource: "status"}}}
}

func TestFromAggregated(t *testing.T) {
	groups := []apidiscoveryv2.APIGroupDiscovery{
		{ObjectMeta: metav1.ObjectMeta{Name: "apps"}, Versions: []apidiscoveryv2.APIVersionDiscovery{
			{Version: "v1", Resources: []apidiscoveryv2.APIResourceDiscovery{resourceOf("statefulsets", "StatefulSet"), resourceOf("deployments", "Deployment")}},
		}},
		{Versions: []apidiscoveryv2.APIVersionDiscovery{
			{Version: "v1", Resources: []apidiscoveryv2.APIResourceDiscovery{resourceOf("pods", "Pod")}},
		}},
		{ObjectMeta: metav1.ObjectMeta{Name: "batch"}, Versions: []apidiscoveryv2.APIVersionDiscovery{
			{Version: "v1", Resources: []apidiscoveryv2.APIResourceDiscovery{resourceOf("jobs", "Job")}},
		}},
	}
	got := fromAggregated(groups)
	want := []clusterv1alpha1.APIEnablement{
		{GroupVersion: "apps/v1", Resources: []clusterv1alpha1.APIResource{{Name: "deployments", Kind: "Deployment"}, {Name: "statefulsets", Kind: "StatefulSet"}}},
		{GroupVersion: "batch/v1", Resources: []clusterv1alpha1.APIResource{{Name: "jobs", Kind: "Job"}}},
		{GroupVersion: "v1", Resources: []clusterv1alpha1.APIResource{{Name: "pods", Kind: "Pod"}}},
	}
	if len(got.enablements) != len(want) {
		t.Fatalf("enablements = %+v, want %+v", got.enablements, want)
	}
	for i := range want {
		g, w := got.enablements[i], want[i]
		if g.GroupVersion != w.GroupVersion || len(g.Resources) != len(w.Resources) {
			t.Fatalf("enablement %d = %+v, want %+v", i, g, w)
		}
		for j := range w.Resources {
			if g.Resources[j] != w.Resources[j] {
				t.Fatalf("enablement %d = %+v, want %+v", i, g, w)
			}
		}
	}
	assertCondition(t, got.condition, metav1.ConditionTrue, clusterv1alpha1.ReasonAPIEnablementsComplete, clusterv1alpha1.MessageAPIEnablementsComplete)

	groups[2].Versions = append(groups[2].Versions, apidiscoveryv2.APIVersionDiscovery{Version: "v2", Freshness: apidiscoveryv2.DiscoveryFreshnessStale})
	assertCondition(t, fromAggregated(groups).condition, metav1.ConditionFalse, clusterv1alpha1.ReasonAPIEnablementsPartial,
		"might collect partial APIEnablements(3) from the cluster")
	assertCondition(t, fromAggregated(nil).condition, metav1.ConditionFalse, clusterv1alpha1.ReasonAPIEnablementsEmpty, clusterv1alpha1.MessageAPIEnablementsEmpty)
}

func assertCondition(t *testing.T, c metav1.Condition, status metav1.ConditionStatus, reason, message string) {
	t.Helper()
	if c.Type != clusterv1alpha1.ClusterConditionCompleteAPIEnablements || c.Status != status || c.Reason != reason || c.Message != message {
		t.Fatalf("condition = %+v, want %s/%s %q", c, status, reason, message)
	}
}
