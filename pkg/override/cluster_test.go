package override

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

func TestClusterMatches(t *testing.T) {
	expr := func(key string, op corev1.NodeSelectorOperator, values ...string) *policyv1alpha1.FieldSelector {
		return &policyv1alpha1.FieldSelector{MatchExpressions: []corev1.NodeSelectorRequirement{{Key: key, Operator: op, Values: values}}}
	}
	in, notIn := corev1.NodeSelectorOpIn, corev1.NodeSelectorOpNotIn
	tests := []struct {
		name     string
		affinity *policyv1alpha1.ClusterAffinity
		noFields bool // render for a cluster without provider, region and zones
		want     bool
		err      string
	}{
		{name: "nil", want: true},
		{name: "empty", affinity: &policyv1alpha1.ClusterAffinity{}, want: true},
		{name: "clusterNames listed", affinity: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"a", "member1"}}, want: true},
		{name: "clusterNames not listed", affinity: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"a"}}},
		{name: "exclude wins", affinity: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}, ExcludeClusters: []string{"member1"}}},
		{name: "exclude other", affinity: &policyv1alpha1.ClusterAffinity{ExcludeClusters: []string{"member2"}}, want: true},
		{name: "labelSelector match", affinity: &policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}}, want: true},
		{name: "labelSelector mismatch", affinity: &policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "dev"}}}},
		{name: "labelSelector invalid matches nothing", affinity: &policyv1alpha1.ClusterAffinity{LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"": "x"}}}},
		{name: "labelSelector and clusterNames", affinity: &policyv1alpha1.ClusterAffinity{
			LabelSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"env": "prod"}}, ClusterNames: []string{"other"}}},
		{name: "provider In", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("provider", in, "gcp", "aws")}, want: true},
		{name: "provider In mismatch", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("provider", in, "gcp")}},
		{name: "provider NotIn", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("provider", notIn, "gcp")}, want: true},
		{name: "provider NotIn mismatch", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("provider", notIn, "aws")}},
		{name: "provider absent In", noFields: true, affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("provider", in, "aws")}},
		{name: "provider absent NotIn", noFields: true, affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("provider", notIn, "aws")}, want: true},
		{name: "region In", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("region", in, "eu-west-1")}, want: true},
		{name: "region In mismatch", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("region", in, "us-east-1")}},
		{name: "region NotIn", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("region", notIn, "us-east-1")}, want: true},
		{name: "region NotIn mismatch", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("region", notIn, "eu-west-1")}},
		{name: "region absent NotIn", noFields: true, affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("region", notIn, "eu-west-1")}, want: true},
		{name: "region invalid value matches nothing", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("region", notIn, "not a label value!")}},
		{name: "zone In one listed", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("zone", in, "eu-west-1b")}, want: true},
		{name: "zone In none listed", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("zone", in, "eu-west-1c")}},
		{name: "zone In no zones", noFields: true, affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("zone", in, "eu-west-1a")}},
		{name: "zone NotIn none listed", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("zone", notIn, "eu-west-1c")}, want: true},
		{name: "zone NotIn one listed", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("zone", notIn, "eu-west-1a", "x")}},
		{name: "zone NotIn no zones", noFields: true, affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("zone", notIn, "eu-west-1a")}, want: true},
		{name: "all expressions must hold", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: &policyv1alpha1.FieldSelector{
			MatchExpressions: []corev1.NodeSelectorRequirement{{Key: "provider", Operator: in, Values: []string{"aws"}}, {Key: "zone", Operator: in, Values: []string{"x"}}}}}},
		{name: "unknown key", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("name", in, "member1")},
			err: "targetCluster.fieldSelector.matchExpressions[0].key: unsupported key \"name\""},
		{name: "unknown operator", affinity: &policyv1alpha1.ClusterAffinity{FieldSelector: expr("zone", corev1.NodeSelectorOpExists)},
			err: "targetCluster.fieldSelector.matchExpressions[0].operator: unsupported operator \"Exists\""},
		{name: "fault even when excluded", affinity: &policyv1alpha1.ClusterAffinity{ExcludeClusters: []string{"member1"}, FieldSelector: expr("provider", "Gt", "1")},
			err: "operator"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := member()
			if tt.noFields {
				c.Spec.Provider, c.Spec.Region, c.Spec.Zones = "", "", nil
			}
			got, err := clusterMatches(c, tt.affinity)
			if wantErr(t, err, tt.err) {
				return
			}
			if got != tt.want {
				t.Errorf("clusterMatches = %v, want %v", got, tt.want)
			}
		})
	}
}
