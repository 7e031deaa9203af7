package fleetbench

import (
	"fmt"

	"github.com/tether-io/tether/test/testenv"
)

// procSample is the CPU time and RSS of a set of processes at one moment.
type procSample struct {
	cpu []float64 // seconds, per process
	rss []int64   // MiB, per process
}

func sampleProcs(pids []int) procSample {
	s := procSample{cpu: make([]float64, len(pids)), rss: make([]int64, len(pids))}
	for i, pid := range pids {
		s.cpu[i], s.rss[i] = testenv.ProcCPUSeconds(pid), testenv.ProcStatusMiB(pid, "VmRSS")
	}
	return s
}

// procUsage summarises two samples of the same processes over secs
// seconds: CPU per process in cores (mean, max), RSS at the end (mean,
// max, total) in MiB.
type procUsage struct {
	cpuMean, cpuMax, cpuTotal float64
	rssMean, rssMax, rssTotal float64
}

func usage(a, b procSample, secs float64) procUsage {
	var u procUsage
	n := float64(len(b.rss))
	if n == 0 || secs <= 0 {
		return u
	}
	for i := range b.rss {
		c := (b.cpu[i] - a.cpu[i]) / secs
		u.cpuTotal += c
		u.cpuMax = max(u.cpuMax, c)
		u.rssTotal += float64(b.rss[i])
		u.rssMax = max(u.rssMax, float64(b.rss[i]))
	}
	u.cpuMean, u.rssMean = u.cpuTotal/n, u.rssTotal/n
	return u
}

func (u procUsage) String() string {
	return fmt.Sprintf("cpu_cores_mean=%.4f cpu_cores_max=%.4f cpu_cores_total=%.2f rss_mib_mean=%.1f rss_mib_max=%.0f rss_mib_total=%.0f",
		u.cpuMean, u.cpuMax, u.cpuTotal, u.rssMean, u.rssMax, u.rssTotal)
}
