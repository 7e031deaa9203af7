package driftbench

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tether-io/tether/test/testenv"
)

// agentUA is the user agent of the agent's clients, on the hub and the
// member (on the member the agent runs as the environment's admin, so its
// requests are told apart by this).
const agentUA = "tether-agent"

// hubCount is what the agent wrote to the hub, from the hub's audit log.
type hubCount struct {
	workStatus int // works/status patches and updates of the run's Works
	events     int // Events created or patched
	other      int // every other write (heartbeat, Cluster status)
}

// memberCount is what the agent sent to the member for the run's objects,
// from the member's audit log.
type memberCount struct {
	writes  int // writes that change state (dry runs apart)
	dryRuns int // dryRun=All requests
	gets    int // GETs of single objects
}

// countHub reads the hub's audit log since mark: the completed writes of
// user, the agent's identity on the hub.
func countHub(t *testing.T, env *testenv.Env, mark testenv.AuditMark, user string, r run) hubCount {
	t.Helper()
	var c hubCount
	for _, ev := range auditEvents(t, env.Hub, mark, func(ev testenv.AuditEvent) bool {
		return ev.Stage == "ResponseComplete" && ev.User == user && ev.IsWrite()
	}) {
		switch {
		case ev.Resource == "works" && ev.Subresource == "status" && strings.HasPrefix(ev.Name, r.prefix):
			c.workStatus++
		case ev.Resource == "events":
			c.events++
		default:
			c.other++
		}
	}
	return c
}

// countMember reads the member's audit log since mark: the agent's
// completed requests for ConfigMaps in the run's namespace.
func countMember(t *testing.T, env *testenv.Env, mark testenv.AuditMark, r run) memberCount {
	t.Helper()
	var c memberCount
	for _, ev := range auditEvents(t, env.Members[0], mark, func(ev testenv.AuditEvent) bool {
		return ev.Stage == "ResponseComplete" && strings.HasPrefix(ev.UserAgent, agentUA) &&
			ev.Resource == "configmaps" && ev.Namespace == r.namespace
	}) {
		switch {
		case ev.IsWrite() && strings.Contains(ev.RequestURI, "dryRun="):
			c.dryRuns++
		case ev.IsWrite():
			c.writes++
		case ev.Verb == "get":
			c.gets++
		}
	}
	return c
}

func auditEvents(t *testing.T, c *testenv.Cluster, mark testenv.AuditMark, match func(testenv.AuditEvent) bool) []testenv.AuditEvent {
	t.Helper()
	var events []testenv.AuditEvent
	testenv.Eventually(t, time.Minute, "read the audit log of "+c.Name, func() (bool, error) {
		var err error
		events, err = c.AuditEvents(mark, match)
		return err == nil, err
	})
	return events
}

// waitQuiet waits until the agent has written no Work status and no Event
// to the hub for quiet: its writes of a burst are done. It polls the hub's audit
// log and fails the test when the writes do not stop within timeout.
func waitQuiet(t *testing.T, env *testenv.Env, user string, quiet, timeout time.Duration) {
	t.Helper()
	mark, err := env.Hub.AuditMark()
	testenv.NoError(t, err)
	seen, last := -1, time.Now()
	testenv.Poll(t, 500*time.Millisecond, timeout, "the agent stops writing to the hub", func(context.Context) (bool, error) {
		events, err := env.Hub.AuditEvents(mark, testenv.WritesBy(user))
		if err != nil {
			return false, err
		}
		var n int
		for _, ev := range events {
			// The heartbeat and Cluster status go on their own clocks.
			if (ev.Resource == "works" || ev.Resource == "events") && ev.Stage == "ResponseComplete" {
				n++
			}
		}
		if n != seen {
			seen, last = n, time.Now()
		}
		return time.Since(last) >= quiet, nil
	})
}
