package main

import (
	"fmt"
	"strings"

	"github.com/tether-io/tether/pkg/aggregate"
	"github.com/tether-io/tether/pkg/drift"
)

// driftedPathLimit is how many paths per cluster -o wide shows.
const driftedPathLimit = 3

// driftRecords returns, per cluster of r (in r's order), the drift record
// its agent keeps in the manifest's status (nil for none).
func driftRecords(r aggregate.Resource) []*drift.Record {
	out := make([]*drift.Record, len(r.Clusters))
	for i, it := range r.Clusters {
		if it.Status != nil {
			out[i] = drift.Decode(it.Status.Raw)
		}
	}
	return out
}

// driftCell is the DRIFT column: how many clusters have the resource
// drifted now, and how many corrected it ("-": none).
func driftCell(r aggregate.Resource) string {
	counts := map[drift.State]int{}
	for _, rec := range driftRecords(r) {
		if rec != nil {
			counts[rec.State]++
		}
	}
	var parts []string
	for _, s := range []drift.State{drift.Drifted, drift.Corrected} {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], strings.ToLower(string(s))))
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ", ")
}

// driftedPaths is -o wide's DRIFTED column: per cluster with a record, its
// paths (at most driftedPathLimit, then how many more); "-": none.
func driftedPaths(r aggregate.Resource) string {
	var parts []string
	for i, rec := range driftRecords(r) {
		if rec == nil {
			continue
		}
		paths := rec.Paths()
		more := len(paths) - driftedPathLimit + rec.OmittedFields
		if len(paths) > driftedPathLimit {
			paths = paths[:driftedPathLimit]
		}
		s := r.Clusters[i].ClusterName + " " + strings.Join(paths, ",")
		if more > 0 {
			s += fmt.Sprintf(" +%d", more)
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, "; ")
}
