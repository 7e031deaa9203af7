package agent

import (
	"os"
	"runtime/debug"
	"strconv"

	"k8s.io/klog/v2"
)

// defaultGCPercent is the agent's GOGC unless the environment sets one. An
// agent holds caches of Works and member objects and makes short-lived
// garbage in bursts; at Go's default of 100 the heap may grow to twice what
// is live. At 50 it grows to 1.5 times: measured at 2,000 Works, RSS fell
// from about 105 to 85-90 MiB and the agent's CPU per Work rose by about a
// third. GOGC in the environment (e.g. the Deployment) takes precedence.
const defaultGCPercent = 50

// MemoryLimitEnv carries the container's memory limit in bytes (the
// Deployment that register writes sets it from the downward API).
const MemoryLimitEnv = "TETHER_MEMORY_LIMIT"

// memoryLimitShare is the part of the container limit given to the Go
// runtime as its soft limit; the rest is headroom for what the runtime does
// not count (the binary's pages, C libraries) so the GC works harder before
// the kernel kills the container.
const memoryLimitShare = 0.9

// tuneGC sets GOGC and the soft memory limit unless GOGC or GOMEMLIMIT are
// set in the environment.
func tuneGC(log klog.Logger) {
	if _, set := os.LookupEnv("GOGC"); !set {
		debug.SetGCPercent(defaultGCPercent)
		log.V(1).Info("Set the GC target", "GOGC", defaultGCPercent)
	}
	if limit, ok := memoryLimit(os.LookupEnv); ok {
		debug.SetMemoryLimit(limit)
		log.V(1).Info("Set the soft memory limit from the container's", "bytes", limit)
	}
}

// memoryLimit returns the soft memory limit to set from MemoryLimitEnv, or
// false when GOMEMLIMIT is set or the container limit is absent or unusable.
func memoryLimit(lookup func(string) (string, bool)) (int64, bool) {
	if _, set := lookup("GOMEMLIMIT"); set {
		return 0, false
	}
	v, set := lookup(MemoryLimitEnv)
	if !set {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return int64(float64(n) * memoryLimitShare), true
}
