package cluster

import (
	"context"
	"net/http"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// probeReady asks the member's /readyz (or /healthz when /readyz is 404)
// and returns the Ready condition karmada-agent would report: True when it
// answers 200, False/ClusterNotReady for another answer, and
// False/ClusterNotReachable when there is no answer.
func probeReady(ctx context.Context, member rest.Interface, timeout time.Duration) metav1.Condition {
	code := get(ctx, member, "/readyz", timeout)
	if code == http.StatusNotFound {
		code = get(ctx, member, "/healthz", timeout)
	}
	switch code {
	case http.StatusOK:
		return readyCondition(metav1.ConditionTrue, clusterv1alpha1.ReasonClusterReady, clusterv1alpha1.MessageClusterReady)
	case 0:
		return readyCondition(metav1.ConditionFalse, clusterv1alpha1.ReasonClusterNotReachable, clusterv1alpha1.MessageClusterNotReachable)
	default:
		return readyCondition(metav1.ConditionFalse, clusterv1alpha1.ReasonClusterNotReady, clusterv1alpha1.MessageClusterNotReady)
	}
}

// get returns the HTTP status of GET path, or 0 when there was no answer.
func get(ctx context.Context, member rest.Interface, path string, timeout time.Duration) int {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var code int
	member.Get().AbsPath(path).MaxRetries(0).Do(ctx).StatusCode(&code)
	return code
}

func readyCondition(status metav1.ConditionStatus, reason, message string) metav1.Condition {
	return metav1.Condition{Type: clusterv1alpha1.ClusterConditionReady, Status: status, Reason: reason, Message: message}
}

// readyHysteresis holds a Ready value against a flapping probe, as
// karmada-agent's cluster condition cache does: when the observed value
// crosses between True and not True, the stored condition is kept until the
// observation has been stable for the success threshold (going to True) or
// the failure threshold (leaving True). The first observation after start,
// and any observation while the Cluster has no Ready condition, is taken as
// is; changes between two non-True values are not delayed.
type readyHysteresis struct {
	clock            clock.PassiveClock
	success, failure time.Duration

	started  bool
	observed metav1.ConditionStatus // last observed status
	since    time.Time              // when observed last changed
}

// adjust returns the Ready condition to report given the observed one and
// the Cluster's current one (nil when it has none).
func (h *readyHysteresis) adjust(observed metav1.Condition, current *metav1.Condition) metav1.Condition {
	now := h.clock.Now()
	if !h.started {
		h.started, h.observed, h.since = true, observed.Status, now
		return observed
	}
	if observed.Status != h.observed {
		h.observed, h.since = observed.Status, now
	}
	if current == nil {
		return observed
	}
	threshold := h.failure
	if observed.Status == metav1.ConditionTrue {
		threshold = h.success
	}
	crosses := (observed.Status == metav1.ConditionTrue) != (current.Status == metav1.ConditionTrue)
	if crosses && now.Before(h.since.Add(threshold)) {
		return *current
	}
	return observed
}
