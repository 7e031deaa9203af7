package fleetbench

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// round is what one fleet size measured, for the fits across sizes.
type round struct {
	k                                    int
	joinSecs, requestsPerJoin            float64
	idleAgentReqPerMin, idleAllReqPerMin float64
	hubCPUPerMin, hubRSS, watches        float64
	agentRSS, agentCPU                   float64
	createP99, changeP99                 time.Duration
	recoverySecs, recoveryReqs           float64
}

// joinStorm starts every agent at once and waits until every Cluster is
// Ready on the hub; it prints the time and the hub requests per join.
func (f *fleet) joinStorm(r *round) testenv.AuditMark {
	f.t.Helper()
	f.watchesBefore, _, _ = f.hubWatches(context.Background())
	mark, cpu0 := f.hubMark(), f.cpuSample()
	t0 := time.Now()
	f.startAgents()
	spawned := time.Since(t0)
	ctx := context.Background()
	var ready int
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, 15*time.Minute, true, func(ctx context.Context) (bool, error) {
		f.agentsAlive()
		n, err := f.readyClusters(ctx)
		if err != nil {
			return false, nil // the hub is busy; poll again
		}
		ready = n
		return n == f.k, nil
	})
	if err != nil {
		f.t.Fatalf("join storm: %d of %d Clusters Ready after 15 min", ready, f.k)
	}
	took := time.Since(t0)
	reqs := Requests(f.hubEvents(mark), t0)
	agents := filter(reqs, func(ev testenv.AuditEvent) bool { return isAgentUser(ev.User) })
	r.joinSecs, r.requestsPerJoin = took.Seconds(), float64(len(agents))/float64(f.k)
	bench(f.k, "join", "all_ready_s=%.1f spawned_in_s=%.1f hub_requests_per_join=%.1f (%s) hub_requests_all_users=%d",
		took.Seconds(), spawned.Seconds(), r.requestsPerJoin, perCluster(ByVerb(agents), f.k), len(reqs))
	bench(f.k, "join", "hub_requests_per_join_by_resource: %s", perCluster(byResource(agents), f.k))
	bench(f.k, "join cpu", "%s", f.cpuSince(cpu0))
	return mark
}

// idle measures the hub and the agents over the idle window, after the
// settle time.
func (f *fleet) idle(r *round) {
	f.t.Helper()
	time.Sleep(f.cfg.settle) // a fixed quiet period before the window, not a wait for a state
	hubPid := f.hubAPIServerPid()
	mark, mmarks, split := f.hubMark(), f.memberMarks(), f.cpuSample()
	cpu0, ps0, t0 := testenv.ProcCPUSeconds(hubPid), sampleProcs(f.pids), time.Now()
	time.Sleep(f.cfg.idle) // the measurement window
	cpu1, ps1, t1 := testenv.ProcCPUSeconds(hubPid), sampleProcs(f.pids), time.Now()
	mins := t1.Sub(t0).Minutes()
	reqs := filter(Requests(f.hubEvents(mark), t0), func(ev testenv.AuditEvent) bool { return ev.Received.Before(t1) })
	agents := filter(reqs, func(ev testenv.AuditEvent) bool { return isAgentUser(ev.User) })
	watches, registered, byRes := f.hubWatches(context.Background())
	leases, other, _ := f.memberWrites(mmarks, t0)
	k := float64(f.k)
	r.hubCPUPerMin, r.hubRSS = (cpu1-cpu0)/mins, float64(testenv.ProcStatusMiB(hubPid, "VmRSS"))
	r.idleAgentReqPerMin, r.idleAllReqPerMin, r.watches = float64(len(agents))/mins, float64(len(reqs))/mins, watches-f.watchesBefore
	bench(f.k, "idle hub", "cpu_s_per_min=%.2f per_cluster=%.4f rss_mib=%.0f requests_per_min_agents=%.1f per_cluster=%.2f requests_per_min_all_users=%.1f window_s=%.0f",
		r.hubCPUPerMin, r.hubCPUPerMin/k, r.hubRSS, r.idleAgentReqPerMin, r.idleAgentReqPerMin/k, r.idleAllReqPerMin, t1.Sub(t0).Seconds())
	bench(f.k, "idle hub", "agent_requests_per_min_per_cluster_by_verb: %s; by resource: %s", perCluster(scale(ByVerb(agents), 1/mins), f.k),
		perCluster(scale(byResource(agents), 1/mins), f.k))
	bench(f.k, "idle hub", "open_watches=%.0f before_the_agents=%.0f agents_per_cluster=%.2f registered_watchers=%.0f all watches by resource, per cluster: %s",
		watches, f.watchesBefore, (watches-f.watchesBefore)/k, registered, perCluster(byRes, f.k))
	bench(f.k, "idle members", "agent_writes_per_min_per_cluster leases=%.2f other=%.2f", float64(leases)/mins/k, float64(other)/mins/k)
	u := usage(ps0, ps1, t1.Sub(t0).Seconds())
	r.agentRSS, r.agentCPU = u.rssMean, u.cpuMean
	bench(f.k, "idle agents", "%s", u)
	bench(f.k, "idle cpu", "%s", f.cpuSince(split))
}

// restartHub stops and restarts the hub's kube-apiserver with every agent
// connected, and measures the recovery from the hub's audit log: an agent
// has recovered once it watches again every resource it watched before.
func (f *fleet) restartHub(r *round, joinMark testenv.AuditMark) {
	f.t.Helper()
	watched := map[string][]string{}
	for user, res := range WatchStarts(f.hubEvents(joinMark)) {
		if isAgentUser(user) {
			for name := range res {
				watched[user] = append(watched[user], name)
			}
		}
	}
	if len(watched) != f.k {
		f.t.Fatalf("hub restart: %d of %d agents have watches on the hub", len(watched), f.k)
	}
	mark, mmarks := f.hubMark(), f.memberMarks()
	ctx := context.Background()
	f.restartCPU = f.cpuSample()
	tStop := time.Now()
	if err := f.env.StopAPIServer(f.env.Hub); err != nil {
		f.t.Fatal(err)
	}
	tDown := time.Now()
	if err := f.env.StartAPIServer(ctx, f.env.Hub); err != nil {
		f.t.Fatal(err)
	}
	tUp := time.Now()
	var back []time.Duration
	err := wait.PollUntilContextTimeout(ctx, time.Second, 10*time.Minute, true, func(context.Context) (bool, error) {
		evs := f.hubEvents(mark)
		back = back[:0]
		for user, res := range watched {
			at, ok := Rewatched(evs, user, res, tStop)
			if !ok {
				return false, nil
			}
			back = append(back, at.Sub(tDown))
		}
		return true, nil
	})
	if err != nil {
		f.agentsAlive()
		f.t.Fatalf("hub restart: %d of %d agents watch again after 10 min", len(back), f.k)
	}
	all := Percentile(back, 100)
	time.Sleep(trailing) // a window for late relists and status writes, not a wait for a state
	f.restartReport(r, mark, mmarks, restart{stop: tStop, down: tDown, up: tUp, back: back, all: all})
}

// trailing is the window after every agent watches again in which the
// restart's late requests (status rewrites, relists) are still counted.
const trailing = 20 * time.Second

// restart is the timeline of a hub restart: the stop began, the old
// apiserver was gone and the new one spawned, the new one answered ready;
// each agent's time from the spawn until it watched again, and the last.
type restart struct {
	stop, down, up time.Time
	back           []time.Duration
	all            time.Duration
}

func (f *fleet) restartReport(r *round, mark testenv.AuditMark, mmarks []testenv.AuditMark, rs restart) {
	f.t.Helper()
	end := rs.down.Add(rs.all).Add(trailing)
	reqs := filter(Requests(f.hubEvents(mark), rs.stop), func(ev testenv.AuditEvent) bool { return !ev.Received.After(end) })
	agents := filter(reqs, func(ev testenv.AuditEvent) bool { return isAgentUser(ev.User) })
	late := filter(agents, func(ev testenv.AuditEvent) bool { return ev.Received.After(rs.down.Add(rs.all)) })
	reads := ReadsPerUserResource(agents)
	var maxPer int
	var maxWhat string
	for user, res := range reads {
		for name, n := range res {
			if n > maxPer {
				maxPer, maxWhat = n, strings.TrimPrefix(user, clusterv1alpha1.AgentUserPrefix)+" "+name
			}
		}
	}
	lists := filter(agents, func(ev testenv.AuditEvent) bool {
		return ev.Code == 200 && (ev.Verb == "list" || ev.Verb == "watch" && strings.Contains(ev.RequestURI, "sendInitialEvents=true"))
	})
	perWatched := PerWatchedResource(agents)
	mean, worst := MeanMax(perWatched, f.k)
	probes := filter(agents, func(ev testenv.AuditEvent) bool { return strings.HasPrefix(ev.RequestURI, "/readyz") })
	leases, other, otherBy := f.memberWrites(mmarks, rs.stop)
	ready, _ := f.readyClusters(context.Background())
	r.recoverySecs, r.recoveryReqs = rs.all.Seconds(), float64(len(agents))
	bench(f.k, "restart", "stop_s=%.1f ready_after_spawn_s=%.1f all_watching_again_s=%.1f p50_s=%.1f (from the new apiserver's spawn) clusters_ready=%d/%d",
		rs.down.Sub(rs.stop).Seconds(), rs.up.Sub(rs.down).Seconds(), rs.all.Seconds(), Percentile(rs.back, 50).Seconds(), ready, f.k)
	bench(f.k, "restart", "hub_requests_until_%.0fs_after_all_watch: all_users=%d agents=%d per_cluster=%.1f peak_per_s_all=%d agents=%d; of them in the last %.0f s: agents=%d (%s)",
		trailing.Seconds(), len(reqs), len(agents), float64(len(agents))/float64(f.k), PeakPerSecond(reqs), PeakPerSecond(agents),
		trailing.Seconds(), len(late), perCluster(byResource(late), f.k))
	bench(f.k, "restart", "agent_requests_per_cluster: %s; reads per cluster by resource: %s; max_reads_one_agent_one_resource=%d (%s)",
		perCluster(ByVerb(agents), f.k), perCluster(byResource(filter(agents, func(ev testenv.AuditEvent) bool { return !ev.IsWrite() })), f.k), maxPer, maxWhat)
	bench(f.k, "restart cpu", "%s", f.cpuSince(f.restartCPU))
	bench(f.k, "restart", "requests_per_cluster_per_resource_watched: mean=%.2f max=%.2f (%s); readyz_probes_per_cluster=%.2f",
		mean, worst, perCluster(perWatched, f.k), float64(len(probes))/float64(f.k))
	bench(f.k, "restart", "relists_per_agent=%.2f (lists and streaming lists) member_writes=%d %v (leader-election lease writes, not counted: %d)",
		float64(len(lists))/float64(f.k), other, otherBy, leases)
}

func filter(evs []testenv.AuditEvent, keep func(testenv.AuditEvent) bool) []testenv.AuditEvent {
	var out []testenv.AuditEvent
	for _, ev := range evs {
		if keep(ev) {
			out = append(out, ev)
		}
	}
	return out
}

func byResource(evs []testenv.AuditEvent) map[string]int {
	out := map[string]int{}
	for _, ev := range evs {
		res := ev.Resource
		if ev.Subresource != "" {
			res += "/" + ev.Subresource
		}
		out[ev.Verb+" "+res]++
	}
	return out
}

func scale(m map[string]int, by float64) map[string]float64 {
	out := map[string]float64{}
	for k, v := range m {
		out[k] = float64(v) * by
	}
	return out
}

// perCluster formats counts divided by k, sorted by key.
func perCluster[V int | float64](m map[string]V, k int) string {
	keys := make([]string, 0, len(m))
	for key := range m {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, key := range keys {
		parts = append(parts, fmt.Sprintf("%s=%.2f", key, float64(m[key])/float64(k)))
	}
	return strings.Join(parts, " ")
}
