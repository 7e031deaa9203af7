package execution

import (
	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	worklisters "github.com/tether-io/tether/pkg/generated/listers/work/v1alpha1"
)

// stateCollector counts, when scraped, the cluster's Works in the informer
// cache by their Applied condition and their manifests by reported health.
type stateCollector struct {
	works     worklisters.WorkNamespaceLister
	worksDesc *prometheus.Desc
	healthDes *prometheus.Desc
}

func newStateCollector(works worklisters.WorkNamespaceLister) *stateCollector {
	return &stateCollector{works: works,
		worksDesc: prometheus.NewDesc("tether_works", "Works of this cluster on the hub, by the status of their Applied condition (True, False, Unknown when there is none).",
			[]string{"applied"}, nil),
		healthDes: prometheus.NewDesc("tether_work_manifests", "Manifests of this cluster's Works, by the health the agent reported (Healthy, Unhealthy, Unknown; Unknown too while none is reported).",
			[]string{"health"}, nil),
	}
}

func (s *stateCollector) Describe(ch chan<- *prometheus.Desc) { ch <- s.worksDesc; ch <- s.healthDes }

func (s *stateCollector) Collect(ch chan<- prometheus.Metric) {
	applied := map[metav1.ConditionStatus]int{metav1.ConditionTrue: 0, metav1.ConditionFalse: 0, metav1.ConditionUnknown: 0}
	health := map[workv1alpha1.ResourceHealth]int{workv1alpha1.ResourceHealthy: 0, workv1alpha1.ResourceUnhealthy: 0, workv1alpha1.ResourceUnknown: 0}
	works, _ := s.works.List(labels.Everything()) // a cache read: no error
	for _, w := range works {
		status := metav1.ConditionUnknown
		if c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied); c != nil {
			status = c.Status
		}
		applied[status]++
		for _, m := range w.Status.ManifestStatuses {
			h := m.Health
			if _, known := health[h]; !known {
				h = workv1alpha1.ResourceUnknown
			}
			health[h]++
		}
	}
	for status, n := range applied {
		ch <- prometheus.MustNewConstMetric(s.worksDesc, prometheus.GaugeValue, float64(n), string(status))
	}
	for h, n := range health {
		ch <- prometheus.MustNewConstMetric(s.healthDes, prometheus.GaugeValue, float64(n), string(h))
	}
}
