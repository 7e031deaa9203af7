package hubcost

import (
	"testing"
	"time"
)

const (
	// settle is how long an agent runs after its Works are Applied before
	// a window opens, for the start-up requests to end.
	settle = 20 * time.Second
	// idleWindow is the measurement window of an idle agent.
	idleWindow = 60 * time.Second
	// maxIdleHubPerMinute is what an idle agent may cost the hub (issue 17's
	// target): its heartbeat Lease renewals (every 12 s by default: 5) and,
	// once its watches are older than client-go's 5-10 minute watch
	// timeout, their renewals (5 watches: ~0.7 a minute).
	maxIdleHubPerMinute = 6
	// maxIdleMemberWritesPerMinute is what it may write in its member: the
	// leader-election Lease, renewed every RenewDeadline/2 (10 s by default:
	// 10 a minute) instead of at each RetryPeriod (2 s: 30 a minute).
	maxIdleMemberWritesPerMinute = 15
)

// TestIdleCost: one agent with a few Works applied, left alone. Over a
// minute it makes at most 6 hub requests (the heartbeat Lease), it
// watches its own Cluster and its execution namespace's Works once each,
// not once per controller, and it writes its member Lease at most 15 times
// (it wrote it every 2 s).
func TestIdleCost(t *testing.T) {
	start := testenvMark(t)
	a := startAgent(t, "idle-cost", "")
	a.idle(settle)
	m := a.mark()
	a.idle(idleWindow)
	hub, member := a.hubRequests(m), a.memberWrites(m)
	watches := a.openWatches(start)
	t.Logf("MEASURE idle hub requests/min: %.1f (%s); open hub watches: %s; member writes/min: %.1f (%s)",
		perMinute(len(hub), idleWindow), format(tally(hub)), format(watches), perMinute(len(member), idleWindow), format(tally(member)))

	if n := watches["watch clusters"]; n != 1 {
		t.Errorf("the agent has %d watches of its Cluster open on the hub, want 1 (one informer per process)", n)
	}
	if n := watches["watch works"]; n != 1 {
		t.Errorf("the agent has %d watches of its Works open on the hub, want 1 (the Work controller, the deletion guard "+
			"and the EndpointSlice reporter share one informer)", n)
	}
	if rate := perMinute(len(hub), idleWindow); rate > maxIdleHubPerMinute {
		t.Errorf("an idle agent made %.1f hub requests per minute, want at most %d: %s", rate, maxIdleHubPerMinute, format(tally(hub)))
	}
	if rate := perMinute(len(member), idleWindow); rate > maxIdleMemberWritesPerMinute {
		t.Errorf("an idle agent made %.1f member writes per minute, want at most %d: %s", rate, maxIdleMemberWritesPerMinute, format(tally(member)))
	}
}
