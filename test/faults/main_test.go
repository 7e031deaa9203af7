// Package faults is Tether's fault-injection suite. Every scenario runs the
// agent as deployed (the built tether-agent binary, its own process, leader
// election on) against the real hub and member apiservers of test/testenv,
// and injects faults for real: it stops, kills or freezes apiserver and agent
// processes, and cuts a TCP proxy between agent and hub. Counts come from the
// apiservers' audit logs, never from the agent's own metrics.
//
// Each scenario manages its own cluster name (its own execution namespace on
// the hub, its own Lease and member namespace) against member1, so that the
// scenarios share one environment without seeing each other's Works. Each
// logs one or more lines starting with "FAULT" with what it measured.
package faults

import (
	"testing"

	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1, Audit: true}) }
