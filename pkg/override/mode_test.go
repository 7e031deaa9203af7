package override

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

func TestShouldRender(t *testing.T) {
	work := func(labels, annotations map[string]string) *workv1alpha1.Work {
		return &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: "w", Labels: labels, Annotations: annotations}}
	}
	karmada := []*workv1alpha1.Work{
		work(map[string]string{workv1alpha1.ResourceBindingPermanentIDLabel: "id"}, nil),
		work(map[string]string{workv1alpha1.ClusterResourceBindingPermanentIDLabel: ""}, nil),
		work(nil, map[string]string{policyv1alpha1.AppliedOverrides: "[]"}),
		work(nil, map[string]string{policyv1alpha1.AppliedClusterOverrides: "[]"}),
	}
	plain := []*workv1alpha1.Work{
		work(nil, nil),
		work(map[string]string{workv1alpha1.WorkPermanentIDLabel: "id", "app": "web"}, map[string]string{"note": "x"}),
	}
	tests := []struct {
		mode  Mode
		works []*workv1alpha1.Work
		want  bool
	}{
		{ModeAuto, karmada, false},
		{ModeAuto, plain, true},
		{"", karmada, false},
		{"", plain, true},
		{ModeAlways, karmada, true},
		{ModeAlways, plain, true},
		{ModeNever, karmada, false},
		{ModeNever, plain, false},
	}
	for _, tt := range tests {
		for i, w := range tt.works {
			if got, why := ShouldRender(tt.mode, w); got != tt.want || why == "" {
				t.Errorf("ShouldRender(%q, work %d %v %v) = %v %q, want %v", tt.mode, i, w.Labels, w.Annotations, got, why, tt.want)
			}
		}
	}
}

func TestShouldRenderNilWork(t *testing.T) {
	if got, _ := ShouldRender(ModeAuto, nil); got {
		t.Error("ShouldRender(nil) = true")
	}
}

func TestParseMode(t *testing.T) {
	for in, want := range map[string]Mode{"": ModeAuto, "auto": ModeAuto, "Always": ModeAlways, "NEVER": ModeNever} {
		if got, err := ParseMode(in); err != nil || got != want {
			t.Errorf("ParseMode(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseMode("sometimes"); err == nil {
		t.Error("ParseMode(sometimes) did not fail")
	}
}
