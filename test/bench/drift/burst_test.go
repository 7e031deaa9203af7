package driftbench

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	kubeinformers "k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	informers "github.com/tether-io/tether/pkg/generated/informers/externalversions"
	"github.com/tether-io/tether/test/testenv"
)

// reportWait bounds the wait for the drift records once the edits are in
// (in the correct mode: repaired).
const reportWait = 2 * time.Minute

// editClients is how many clients make the edits at once.
const editClients = 50

// result is what one burst measured.
type result struct {
	editsIn            time.Duration // from the first edit sent to the last acknowledged
	window             time.Duration // from the first edit to every repair and report seen
	repair, report     dist
	repaired, reported int
	hub                hubCount
	member             memberCount
	cpuSeconds         float64
	rssMiB             int64
}

// watch starts informers on the run's Works on the hub and ConfigMaps on
// the member; they feed the episodes. An informer re-lists when its watch
// falls behind, so a burst cannot lose events for good.
func (b *bench) watch(t *testing.T) {
	t.Helper()
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	hf := informers.NewSharedInformerFactoryWithOptions(b.hub, 0, informers.WithNamespace(b.es))
	hinf := hf.Work().V1alpha1().Works().Informer()
	onWork := func(obj any) {
		w, ok := obj.(*workv1alpha1.Work)
		if !ok || !strings.HasPrefix(w.Name, b.run.prefix) {
			return
		}
		rec, err := workRecord(w)
		if err != nil {
			t.Errorf("%v", err)
			return
		}
		b.ep.hub(w.Name, rec, time.Now())
	}
	_, err := hinf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: onWork, UpdateFunc: func(_, obj any) { onWork(obj) }})
	testenv.NoError(t, err)
	mf := kubeinformers.NewSharedInformerFactoryWithOptions(b.member, 0, kubeinformers.WithNamespace(b.run.namespace))
	minf := mf.Core().V1().ConfigMaps().Informer()
	onConfigMap := func(obj any) {
		if cm, ok := obj.(*corev1.ConfigMap); ok {
			b.ep.member(cm.Name, cm.Data["key"], time.Now())
		}
	}
	_, err = minf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: onConfigMap, UpdateFunc: func(_, obj any) { onConfigMap(obj) }})
	testenv.NoError(t, err)
	hf.Start(stop)
	mf.Start(stop)
	if !cache.WaitForCacheSync(stop, hinf.HasSynced, minf.HasSynced) {
		t.Fatal("the bench's informers did not sync")
	}
}

// burst edits every ConfigMap of the run at once as another field manager,
// waits for the repairs (correct mode), the drift records and the agent's
// last write, and counts the agent's requests from the audit logs.
func (b *bench) burst(t *testing.T) result {
	t.Helper()
	hubMark, err := b.env.Hub.AuditMark()
	testenv.NoError(t, err)
	memberMark, err := b.env.Members[0].AuditMark()
	testenv.NoError(t, err)
	pid := b.agent.Process().Pid
	cpu0 := testenv.ProcCPUSeconds(pid)
	patch := []byte(fmt.Sprintf(`{"data":{"key":%q}}`, editedValue))
	start := time.Now()
	testenv.Parallel(b.run.n, editClients, func(i int) {
		_, err := b.member.CoreV1().ConfigMaps(b.run.namespace).Patch(context.Background(), b.name(i), types.MergePatchType, patch,
			metav1.PatchOptions{FieldManager: editManager})
		if err != nil {
			t.Errorf("edit %s: %v", b.name(i), err)
			return
		}
		b.ep.edit(b.name(i), time.Now())
	})
	res := result{editsIn: time.Since(start)}
	if t.Failed() {
		t.FailNow()
	}
	lastAt, lastCPU := b.follow(t, start, pid)
	res.window, res.cpuSeconds, res.rssMiB = lastAt.Sub(start), lastCPU-cpu0, testenv.ProcStatusMiB(pid, "VmRSS")
	waitQuiet(t, b.env, b.user, 5*time.Second, 5*time.Minute)
	_, res.repaired, res.reported = b.ep.counts()
	res.repair, res.report = distribution(b.ep.since(repairs)), distribution(b.ep.since(reports))
	res.hub, res.member = countHub(t, b.env, hubMark, b.user, b.run), countMember(t, b.env, memberMark, b.run)
	return res
}

// repairWait bounds the wait for the repairs of a burst.
const repairWait = 5 * time.Minute

// follow waits until every edit is repaired (correct mode) and reported.
// It fails the test when the repairs are not all in within repairWait,
// and ends without failing when the records are not all in reportWait
// after that (an agent that writes none: checkReports says what it
// found). It returns when the last repair or report was seen and the
// agent's CPU time then, so that the burst's CPU leaves out the waiting.
func (b *bench) follow(t *testing.T, start time.Time, pid int) (lastAt time.Time, lastCPU float64) {
	t.Helper()
	correct := b.run.mode == ""
	var prevRepaired, prevReported int
	var repairedAt time.Time
	lastAt, lastCPU = start, testenv.ProcCPUSeconds(pid)
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, repairWait+reportWait, true, func(context.Context) (bool, error) {
		_, repaired, reported := b.ep.counts()
		if repaired != prevRepaired || reported != prevReported {
			prevRepaired, prevReported, lastAt, lastCPU = repaired, reported, time.Now(), testenv.ProcCPUSeconds(pid)
		}
		if correct && repaired < b.run.n {
			if time.Since(start) > repairWait {
				return false, fmt.Errorf("%d of %d edits repaired after %s", repaired, b.run.n, repairWait)
			}
			return false, nil
		}
		if repairedAt.IsZero() {
			repairedAt = time.Now()
		}
		return reported == b.run.n || time.Since(repairedAt) > reportWait, nil
	})
	if err != nil {
		t.Fatalf("the burst of %d edits: %v", b.run.n, err)
	}
	return lastAt, lastCPU
}

// stillEdited counts the run's ConfigMaps that hold the edited value.
func (b *bench) stillEdited(t *testing.T) int {
	t.Helper()
	list, err := b.member.CoreV1().ConfigMaps(b.run.namespace).List(context.Background(), metav1.ListOptions{})
	testenv.NoError(t, err)
	n := 0
	for _, cm := range list.Items {
		if strings.HasPrefix(cm.Name, b.run.prefix) && cm.Data["key"] == editedValue {
			n++
		}
	}
	return n
}

func (res result) print(r run) {
	per := func(v int) float64 { return float64(v) / float64(r.n) }
	fmt.Printf("BENCH drift %s edits=%d edits_in_ms=%d edit_clients=%d (merge patches of %s by field manager %s, at once)\n",
		r.name, r.n, res.editsIn.Milliseconds(), editClients, driftPath, editManager)
	if r.mode == "" {
		fmt.Printf("BENCH drift %s time_to_repair %s (edit acknowledged -> a watch on the member sees the manifest's value)\n", r.name, res.repair)
	}
	if res.reported > 0 {
		fmt.Printf("BENCH drift %s time_to_report %s (edit acknowledged -> a watch on the hub sees the Work's drift record)\n", r.name, res.report)
	}
	fmt.Printf("BENCH drift %s hub_work_status_writes_per_episode=%.2f hub_events_per_episode=%.2f hub_writes_per_episode=%.2f hub_other_writes=%d "+
		"(the agent's writes on the hub from the burst until 5 s without one, from the hub's audit log; other: heartbeat, Cluster status)\n",
		r.name, per(res.hub.workStatus), per(res.hub.events), per(res.hub.workStatus+res.hub.events), res.hub.other)
	fmt.Printf("BENCH drift %s member_writes_per_episode=%.2f member_gets_per_episode=%.2f member_dry_runs=%d repaired=%d "+
		"(the agent's requests for the ConfigMaps, from the member's audit log)\n",
		r.name, per(res.member.writes), per(res.member.gets), res.member.dryRuns, res.repaired)
	fmt.Printf("BENCH drift %s agent_cpu_s=%.2f over_s=%.1f agent_cpu_ms_per_episode=%.2f agent_rss_mib=%d (first edit -> the last repair or report seen)\n",
		r.name, res.cpuSeconds, res.window.Seconds(), res.cpuSeconds*1000/float64(r.n), res.rssMiB)
}
