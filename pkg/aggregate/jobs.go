package aggregate

import (
	"strings"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// jobCondition is a Job condition without timestamps: the aggregate is
// computed on every read, so a time would only say when it was read.
type jobCondition struct {
	Type    batchv1.JobConditionType `json:"type"`
	Status  corev1.ConditionStatus   `json:"status"`
	Reason  string                   `json:"reason"`
	Message string                   `json:"message"`
}

type jobStatus struct {
	Active         int32          `json:"active"`
	Succeeded      int32          `json:"succeeded"`
	Failed         int32          `json:"failed"`
	Conditions     []jobCondition `json:"conditions,omitempty"`
	StartTime      *metav1.Time   `json:"startTime,omitempty"`
	CompletionTime *metav1.Time   `json:"completionTime,omitempty"`
}

// job sums active, succeeded and failed; adds Failed when a cluster's Job
// failed, Complete when every cluster's completed (and SuccessCriteriaMet
// when every cluster reports it); startTime is the earliest once every
// cluster started, completionTime the latest once every cluster completed.
// "Every cluster" counts the clusters without a status, as Karmada does.
func job(_ *unstructured.Unstructured, items []Item) (any, error) {
	var out jobStatus
	var failed []string
	completed, criteriaMet, started, finished := 0, 0, 0, 0
	for _, it := range items {
		var s batchv1.JobStatus
		if ok, err := decode(it, &s); err != nil {
			return nil, err
		} else if !ok {
			continue
		}
		out.Active += s.Active
		out.Succeeded += s.Succeeded
		out.Failed += s.Failed
		switch finishedAs(s) {
		case batchv1.JobComplete:
			completed++
		case batchv1.JobFailed:
			failed = append(failed, it.ClusterName)
		}
		if conditionTrue(s, batchv1.JobSuccessCriteriaMet) {
			criteriaMet++
		}
		if s.StartTime != nil {
			started++
			out.StartTime = earlier(out.StartTime, s.StartTime)
		}
		if s.CompletionTime != nil {
			finished++
			out.CompletionTime = later(out.CompletionTime, s.CompletionTime)
		}
	}
	if len(failed) > 0 {
		out.Conditions = append(out.Conditions, jobCondition{batchv1.JobFailed, corev1.ConditionTrue, "JobFailed",
			"Job executed failed in member clusters " + strings.Join(failed, ",")})
	}
	if completed > 0 && completed == len(items) {
		out.Conditions = append(out.Conditions, jobCondition{batchv1.JobComplete, corev1.ConditionTrue, "Completed", "Job completed"})
		if criteriaMet == len(items) {
			out.Conditions = append(out.Conditions, jobCondition{batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue,
				"CompletionsReached", "All member clusters have met success criteria"})
		}
	}
	if started != len(items) {
		out.StartTime = nil
	}
	if finished != len(items) {
		out.CompletionTime = nil
	}
	return out, nil
}

// finishedAs is the first of Complete and Failed the Job reports True, or "".
func finishedAs(s batchv1.JobStatus) batchv1.JobConditionType {
	for _, c := range s.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type
		}
	}
	return ""
}

// conditionTrue says whether the Job reports condition t as True.
func conditionTrue(s batchv1.JobStatus, t batchv1.JobConditionType) bool {
	for _, c := range s.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}

// cronJob concatenates the active Jobs and keeps the latest
// lastScheduleTime and lastSuccessfulTime.
func cronJob(_ *unstructured.Unstructured, items []Item) (any, error) {
	var out batchv1.CronJobStatus
	for _, it := range items {
		var s batchv1.CronJobStatus
		if _, err := decode(it, &s); err != nil {
			return nil, err
		}
		out.Active = append(out.Active, s.Active...)
		out.LastScheduleTime = later(out.LastScheduleTime, s.LastScheduleTime)
		out.LastSuccessfulTime = later(out.LastSuccessfulTime, s.LastSuccessfulTime)
	}
	return out, nil
}

// later returns the later of two optional times.
func later(a, b *metav1.Time) *metav1.Time {
	if a == nil || (b != nil && a.Before(b)) {
		return b
	}
	return a
}

// earlier returns the earlier of two optional times.
func earlier(a, b *metav1.Time) *metav1.Time {
	if a == nil || (b != nil && b.Before(a)) {
		return b
	}
	return a
}
