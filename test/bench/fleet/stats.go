// Package fleetbench measures what one hub pays for a fleet of Tether
// clusters: K tether-agent processes, each with its own cluster name, hub
// identity and RBAC, against one hub and a few shared members from
// test/testenv. It reports idle hub cost per cluster (fitted across K),
// Work fan-out latency, recovery from a hub restart, a join storm, and the
// agents' own RSS and CPU. The benchmark runs only with TETHER_BENCH_FLEET=1
// ('make bench-fleet'); this file holds its pure logic (percentiles, fits,
// request counting from audit events), which the unit tests cover.
package fleetbench

import (
	"math"
	"sort"
	"time"

	"github.com/tether-io/tether/test/testenv"
)

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of d; 0
// for no samples. d need not be sorted.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// Fit is a least-squares line y = Intercept + Slope*x, and the exponent
// of a power law y = c*x^Exponent fitted in log-log space (1 is linear
// growth; NaN when a y is not positive).
type Fit struct {
	Intercept, Slope, Exponent float64
}

// FitLine fits xs to ys (at least two distinct xs; otherwise the zero Fit
// with a NaN exponent).
func FitLine(xs, ys []float64) Fit {
	a, b, ok := leastSquares(xs, ys)
	if !ok {
		return Fit{Exponent: math.NaN()}
	}
	f := Fit{Intercept: a, Slope: b, Exponent: math.NaN()}
	lx, ly := make([]float64, len(xs)), make([]float64, len(ys))
	for i := range xs {
		if xs[i] <= 0 || ys[i] <= 0 {
			return f
		}
		lx[i], ly[i] = math.Log(xs[i]), math.Log(ys[i])
	}
	if _, p, ok := leastSquares(lx, ly); ok {
		f.Exponent = p
	}
	return f
}

// At is the fitted line's value at x.
func (f Fit) At(x float64) float64 { return f.Intercept + f.Slope*x }

func leastSquares(xs, ys []float64) (intercept, slope float64, ok bool) {
	n := float64(len(xs))
	if len(xs) < 2 || len(xs) != len(ys) {
		return 0, 0, false
	}
	var sx, sy, sxx, sxy float64
	for i := range xs {
		sx, sy, sxx, sxy = sx+xs[i], sy+ys[i], sxx+xs[i]*xs[i], sxy+xs[i]*ys[i]
	}
	den := n*sxx - sx*sx
	if den == 0 {
		return 0, 0, false
	}
	slope = (n*sxy - sx*sy) / den
	return (sy - slope*sx) / n, slope, true
}

// Requests keeps one audit event per request that the apiserver received
// at or after from: an event of a request received earlier (a watch that
// started before and ends now) is dropped, and the two events of a watch
// (ResponseStarted, ResponseComplete) count once.
func Requests(events []testenv.AuditEvent, from time.Time) []testenv.AuditEvent {
	seen := map[string]bool{}
	var out []testenv.AuditEvent
	for _, ev := range events {
		if ev.Received.Before(from) || seen[ev.AuditID] {
			continue
		}
		seen[ev.AuditID] = true
		out = append(out, ev)
	}
	return out
}

// ByVerb counts requests by audit verb.
func ByVerb(reqs []testenv.AuditEvent) map[string]int {
	out := map[string]int{}
	for _, ev := range reqs {
		out[ev.Verb]++
	}
	return out
}

// PeakPerSecond is the most requests received within one wall-clock second.
func PeakPerSecond(reqs []testenv.AuditEvent) int {
	buckets := map[int64]int{}
	peak := 0
	for _, ev := range reqs {
		s := ev.Received.Unix()
		buckets[s]++
		peak = max(peak, buckets[s])
	}
	return peak
}

// ReadsPerUserResource counts the reads (get, list, watch) of each user on
// each resource ("resource" or "resource/subresource").
func ReadsPerUserResource(reqs []testenv.AuditEvent) map[string]map[string]int {
	out := map[string]map[string]int{}
	for _, ev := range reqs {
		if ev.IsWrite() {
			continue
		}
		res := ev.Resource
		if ev.Subresource != "" {
			res += "/" + ev.Subresource
		}
		if out[ev.User] == nil {
			out[ev.User] = map[string]int{}
		}
		out[ev.User][res]++
	}
	return out
}

// PerWatchedResource counts, for each resource the requests watch, the
// requests of any verb on it (not on its subresources). Divided by the
// number of clusters it is issue 17's restart figure: at most 2 requests
// per cluster per resource watched.
func PerWatchedResource(reqs []testenv.AuditEvent) map[string]int {
	out := map[string]int{}
	for _, ev := range reqs {
		if ev.Verb == "watch" {
			out[ev.Resource] = 0
		}
	}
	for _, ev := range reqs {
		if _, ok := out[ev.Resource]; ok && ev.Subresource == "" {
			out[ev.Resource]++
		}
	}
	return out
}

// MeanMax is the mean and the largest of counts, each divided by k.
func MeanMax(counts map[string]int, k int) (mean, largest float64) {
	for _, n := range counts {
		v := float64(n) / float64(k)
		mean += v
		largest = max(largest, v)
	}
	if len(counts) > 0 {
		mean /= float64(len(counts))
	}
	return mean, largest
}

// WatchStarts returns, per user, the resources the user watched and the
// time each watch started (the latest start of each), from the
// ResponseStarted events of watches.
func WatchStarts(events []testenv.AuditEvent) map[string]map[string]time.Time {
	out := map[string]map[string]time.Time{}
	for _, ev := range events {
		if ev.Verb != "watch" || ev.Stage != "ResponseStarted" {
			continue
		}
		if out[ev.User] == nil {
			out[ev.User] = map[string]time.Time{}
		}
		if ev.Received.After(out[ev.User][ev.Resource]) {
			out[ev.User][ev.Resource] = ev.Received
		}
	}
	return out
}

// Rewatched is when user had again a watch on every resource of want
// started at or after since (the first such start of each), and false
// when some resource was not watched again.
func Rewatched(events []testenv.AuditEvent, user string, want []string, since time.Time) (time.Time, bool) {
	first := map[string]time.Time{}
	for _, ev := range events {
		if ev.User != user || ev.Verb != "watch" || ev.Stage != "ResponseStarted" || ev.Received.Before(since) {
			continue
		}
		if t, ok := first[ev.Resource]; !ok || ev.Received.Before(t) {
			first[ev.Resource] = ev.Received
		}
	}
	var last time.Time
	for _, res := range want {
		t, ok := first[res]
		if !ok {
			return time.Time{}, false
		}
		if t.After(last) {
			last = t
		}
	}
	return last, true
}
