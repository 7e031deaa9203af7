package fleetbench

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tether-io/tether/test/testenv"
)

// machineBusy is the CPU time the whole machine has spent busy (all but
// idle and iowait), in seconds, from /proc/stat; -1 when it cannot read it.
func machineBusy() float64 {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line)
	if len(fields) < 6 || fields[0] != "cpu" {
		return -1
	}
	var busy float64
	for i, v := range fields[1:] {
		n, _ := strconv.ParseFloat(v, 64)
		if i != 3 && i != 4 && i < 8 { // idle, iowait; guest time is already in user
			busy += n
		}
	}
	return busy / 100
}

// cpuSplit samples where the CPU goes: the machine, the agents together,
// and each control-plane process of the environment.
type cpuSplit struct {
	at      time.Time
	machine float64
	agents  float64
	procs   map[string]float64 // control-plane process name -> CPU seconds
}

func (f *fleet) cpuSample() cpuSplit {
	s := cpuSplit{at: time.Now(), machine: machineBusy(), procs: map[string]float64{}}
	for _, pid := range f.pids {
		s.agents += max(testenv.ProcCPUSeconds(pid), 0)
	}
	for _, p := range f.env.Processes {
		if strings.HasPrefix(p.Name, "agent-") || !p.Alive() {
			continue
		}
		s.procs[p.Name] = max(testenv.ProcCPUSeconds(p.Pid), 0)
	}
	return s
}

// cpuSince formats, in cores, where the CPU went from a to now: the
// machine, everything outside the environment and the agents (other
// users of the machine, and this test), the agents, then each
// control-plane process, most first. A process restarted in between
// counts from 0.
func (f *fleet) cpuSince(a cpuSplit) string {
	b := f.cpuSample()
	secs := b.at.Sub(a.at).Seconds()
	if secs <= 0 {
		return ""
	}
	type use struct {
		name  string
		cores float64
	}
	var uses []use
	var ours float64
	for name, v := range b.procs {
		c := (v - a.procs[name]) / secs
		if v < a.procs[name] {
			c = v / secs
		}
		uses = append(uses, use{name, c})
		ours += c
	}
	sort.Slice(uses, func(i, j int) bool { return uses[i].cores > uses[j].cores })
	agents := (b.agents - a.agents) / secs
	machine := (b.machine - a.machine) / secs
	out := fmt.Sprintf("machine_busy_cores=%.2f outside_env=%.2f agents=%.2f", machine, machine-ours-agents, agents)
	for _, u := range uses {
		out += fmt.Sprintf(" %s=%.2f", u.name, u.cores)
	}
	return out + fmt.Sprintf(" (over %.0f s)", secs)
}
