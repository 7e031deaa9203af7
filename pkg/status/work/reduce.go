package work

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/drift"
)

// Tether's condition on a Work whose full status the hub refused for its
// size. Karmada ignores condition types it does not know, and the Applied
// condition keeps Karmada's meaning: it says nothing about the status write.
const (
	// ConditionStatusTruncated is True while manifestStatuses carry only
	// identifiers, health and short error summaries, because the hub
	// refused the full status as too large. It is removed once the full
	// status is written again.
	ConditionStatusTruncated = "StatusTruncated"
	// ReasonStatusTooLarge is its reason.
	ReasonStatusTooLarge = "StatusTooLarge"
)

// Reduction levels, tried in turn while the hub refuses a status as too large.
const (
	levelFull    = iota
	levelSummary // no reflected status; errors cut to summaryLimit
	levelBare    // identifiers and health only
	levelNone    // even that was refused: write nothing until the Work changes
)

// summaryLimit caps each manifest's error in a reduced status.
const summaryLimit = 256

// reduction remembers, per Work, that the hub refused its full status: for
// which generation of the Work, how far the status had to be reduced, and
// the size of the smallest full status refused. The full status is tried
// again when the Work's generation changes or the full status has shrunk to
// three quarters of that size (its objects' statuses got smaller); member
// changes that keep the size, such as counters moving, do not send a
// status the hub is known to refuse.
type reduction struct {
	uid        types.UID
	generation int64
	level      int
	refused    int
	cause      string // the hub's answer, bounded
}

// retryFull reports whether a full status of size bytes should be sent
// again for work.
func (r reduction) retryFull(work *workv1alpha1.Work, size int) bool {
	return r.uid != work.UID || r.generation != work.Generation || size <= r.refused*3/4
}

// tooLargeMessages are what the apiserver says, in a 500, when its store
// refused a write for its size: etcd's own limit (--max-request-bytes,
// 1.5 MiB by default), or the gRPC message limit of the apiserver's etcd
// client (2 MiB), whichever is lower.
var tooLargeMessages = []string{"request is too large", "request entity too large", "trying to send message larger than max"}

// tooLarge reports whether the hub refused a write for its size: 413 from
// the apiserver's body limit, the store's limits (tooLargeMessages), or a
// validation error on a length or count.
func tooLarge(err error) bool {
	if apierrors.IsRequestEntityTooLargeError(err) {
		return true
	}
	var s apierrors.APIStatus
	if !errors.As(err, &s) {
		return false
	}
	st := s.Status()
	msg := strings.ToLower(st.Message)
	for _, m := range tooLargeMessages {
		if strings.Contains(msg, m) {
			return true
		}
	}
	if st.Code != http.StatusUnprocessableEntity || st.Details == nil {
		return false
	}
	for _, c := range st.Details.Causes {
		if c.Type == metav1.CauseTypeTooLong || c.Type == metav1.CauseTypeTooMany {
			return true
		}
	}
	return false
}

// reduce returns full cut down to level, with the StatusTruncated condition
// saying why. refused is the size of the full status the hub refused.
func reduce(full workv1alpha1.WorkStatus, level, refused int, cause string, generation int64) workv1alpha1.WorkStatus {
	out := workv1alpha1.WorkStatus{Conditions: append([]metav1.Condition(nil), full.Conditions...)}
	for _, ms := range full.ManifestStatuses {
		r := workv1alpha1.ManifestStatus{Identifier: ms.Identifier, Health: ms.Health}
		if level == levelSummary {
			r.Status = summary(ms)
		}
		out.ManifestStatuses = append(out.ManifestStatuses, r)
	}
	what := "identifiers, health and short error summaries"
	if level >= levelBare {
		what = "identifiers and health"
	}
	meta.SetStatusCondition(&out.Conditions, metav1.Condition{
		Type: ConditionStatusTruncated, Status: metav1.ConditionTrue, Reason: ReasonStatusTooLarge, ObservedGeneration: generation,
		Message: fmt.Sprintf("The hub refused the full status (%d bytes) as too large (%s); manifestStatuses carry %s only. "+
			"The full status is written again when the Work changes or its objects' statuses shrink.",
			refused, cause, what),
	})
	return out
}

// summary keeps the apply, reflect or observe message of a manifest status,
// cut short, and the drift record without its fields (all counted in
// omittedFields); it drops a reflected status.
func summary(ms workv1alpha1.ManifestStatus) *runtime.RawExtension {
	if ms.Status == nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(ms.Status.Raw, &m) != nil {
		return nil
	}
	out := map[string]any{}
	rec := drift.Decode(ms.Status.Raw)
	if rec != nil {
		rec.OmittedFields += len(rec.Fields)
		rec.Fields = nil
		out[drift.RecordKey] = rec
		delete(m, drift.RecordKey)
	}
	for _, k := range []string{"applyError", "reflectError", "observed"} {
		if s, ok := m[k].(string); ok && len(m) == 1 {
			out[k] = cut(s, summaryLimit)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return rawStatus(out)
}
