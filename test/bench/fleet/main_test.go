package fleetbench

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Environment switches of the benchmark:
//
//	TETHER_BENCH_FLEET=1    run it ('make bench-fleet'); otherwise only the unit tests run.
//	TETHER_FLEET_K=50,100   the fleet sizes, one fresh environment each (default 50,100,200).
//	TETHER_FLEET_QUICK=1    K=5 and short windows, for development.
//	TETHER_FLEET_MEMBERS=2  member apiservers the agents share (default 2).
//	TETHER_FLEET_IDLE=60s   the idle measurement window (default 60s).
//	TETHER_FLEET_AGENT_ENV  extra environment of every agent, e.g. "GOMEMLIMIT=64MiB GOGC=50".
//	TETHER_FLEET_AGENT_ARGS extra 'tether-agent run' flags of every agent.
func TestMain(m *testing.M) { os.Exit(m.Run()) }

// config is the benchmark's shape, from the environment.
type config struct {
	ks        []int
	members   int
	idle      time.Duration
	settle    time.Duration
	agentEnv  []string
	agentArgs []string
}

func loadConfig(t *testing.T) config {
	c := config{ks: []int{50, 100, 200}, members: 2, idle: time.Minute, settle: 20 * time.Second}
	if os.Getenv("TETHER_FLEET_QUICK") != "" {
		c.ks, c.idle, c.settle = []int{5}, 20*time.Second, 5*time.Second
	}
	if v := os.Getenv("TETHER_FLEET_K"); v != "" {
		c.ks = nil
		for _, f := range strings.Split(v, ",") {
			k, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || k <= 0 || k > 999 {
				t.Fatalf("TETHER_FLEET_K=%q: want a comma-separated list of fleet sizes from 1 to 999", v)
			}
			c.ks = append(c.ks, k)
		}
	}
	if v := os.Getenv("TETHER_FLEET_MEMBERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("TETHER_FLEET_MEMBERS=%q: want a positive number of member clusters", v)
		}
		c.members = n
	}
	if v := os.Getenv("TETHER_FLEET_IDLE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second {
			t.Fatalf("TETHER_FLEET_IDLE=%q: want a duration of at least 10s", v)
		}
		c.idle = d
	}
	c.agentEnv = strings.Fields(os.Getenv("TETHER_FLEET_AGENT_ENV"))
	c.agentArgs = strings.Fields(os.Getenv("TETHER_FLEET_AGENT_ARGS"))
	return c
}

// bench prints one result line, "BENCH fleet k=<K> <what> key=value ...".
func bench(k int, what, format string, args ...any) {
	fmt.Printf("BENCH fleet k=%d %s %s\n", k, what, fmt.Sprintf(format, args...))
}
