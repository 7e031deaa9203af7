package work

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/record"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/drift"
	worklisters "github.com/tether-io/tether/pkg/generated/listers/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
)

// driftWork is a Work of one ConfigMap, with a writer whose member holds it.
func driftWork(t *testing.T) (*Writer, *workv1alpha1.Work, manifest.Key, *record.FakeRecorder) {
	t.Helper()
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"ns"},"data":{"mode":"fast"}}`
	work := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: "w", Namespace: "ns", UID: "u", Generation: 1},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
			{RawExtension: runtime.RawExtension{Raw: []byte(cm)}}}}}}
	live := &unstructured.Unstructured{}
	if err := live.UnmarshalJSON([]byte(cm)); err != nil {
		t.Fatal(err)
	}
	rec := record.NewFakeRecorder(10)
	works := cache.NewIndexer(cache.MetaNamespaceKeyFunc, cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc})
	if err := works.Add(work); err != nil {
		t.Fatal(err)
	}
	w := New(Config{Recorder: rec, Lister: worklisters.NewWorkLister(works), Live: LiveSource(func(id manifest.Identity) member.Answer {
		return member.Answer{State: member.Present, ID: id, Object: live}
	})})
	return w, work, manifest.Key{Kind: "ConfigMap", Namespace: "ns", Name: "c"}, rec
}

func observed(id manifest.Key, f *drift.Finding) ApplyOutcome {
	return ApplyOutcome{Generation: 1, Drift: map[manifest.Key]drift.Observation{id: {Finding: f}}}
}

// TestDriftRecordIsWrittenOncePerEpisode: the status carries the record;
// a repeat of the same episode changes nothing the writer would write (the
// hub's record stays), yet a write made for another reason carries the
// new counters; other paths are a new episode, announced once.
func TestDriftRecordIsWrittenOncePerEpisode(t *testing.T) {
	w, work, id, events := driftWork(t)
	key := "ns/w"
	f := &drift.Finding{Mode: "correct", Repaired: true,
		Fields: []drift.Field{{Path: "/data/mode", ValueInMember: `"slow"`, ValueInHub: `"fast"`, Manager: "kubectl-edit"}}}
	w.SetOutcome(key, observed(id, f))
	first, _ := w.build(work, observed(id, f), true)
	rec := drift.Decode(first.ManifestStatuses[0].Status.Raw)
	if rec == nil || rec.State != drift.Corrected || rec.Repairs != 1 || len(rec.Fields) != 1 || rec.Fields[0].Manager != "kubectl-edit" {
		t.Fatalf("record %s", first.ManifestStatuses[0].Status.Raw)
	}
	if len(events.Events) != 1 {
		t.Fatalf("%d Events for one episode", len(events.Events))
	}
	if ev := <-events.Events; !strings.Contains(ev, "Normal DriftCorrected") || !strings.Contains(ev, "/data/mode (by kubectl-edit)") || strings.Contains(ev, "slow") {
		t.Errorf("Event %q", ev)
	}
	work.Status = first // as the hub now has it
	w.SetOutcome(key, observed(id, f))
	second, _ := w.build(work, observed(id, f), true)
	if !sameStatus(second, work.Status) {
		t.Errorf("the same episode again would be written:\n%s\n%s", second.ManifestStatuses[0].Status.Raw, first.ManifestStatuses[0].Status.Raw)
	}
	if len(events.Events) != 0 {
		t.Errorf("an Event for the same episode: %q", <-events.Events)
	}
	if !w.refreshDrift(key, &second) || drift.Decode(second.ManifestStatuses[0].Status.Raw).Repairs != 2 {
		t.Errorf("a write for another reason does not carry the new counters: %s", second.ManifestStatuses[0].Status.Raw)
	}
	other := &drift.Finding{Mode: "correct", Repaired: true, Fields: []drift.Field{{Path: "/data/level"}}}
	w.SetOutcome(key, observed(id, other))
	third, _ := w.build(work, observed(id, other), true)
	if sameStatus(third, work.Status) || len(events.Events) != 1 {
		t.Errorf("other paths: written %v, %d Events; want a write and one Event", !sameStatus(third, work.Status), len(events.Events))
	}
}

// TestDriftRecordSurvivesARestart: a new writer takes firstObserved and
// repairs over from the hub's record.
func TestDriftRecordSurvivesARestart(t *testing.T) {
	w, work, id, _ := driftWork(t)
	f := &drift.Finding{Mode: "correct", Repaired: true, Fields: []drift.Field{{Path: "/data/mode"}}}
	w.SetOutcome("ns/w", observed(id, f))
	work.Status, _ = w.build(work, observed(id, f), true)
	before := drift.Decode(work.Status.ManifestStatuses[0].Status.Raw)

	restarted := New(Config{Live: w.cfg.Live})
	d := restarted.seedDrift("ns/w", work)
	next, episode := drift.Next(d.records[id], drift.Observation{Finding: f}, time.Now())
	if episode || next.Repairs != before.Repairs+1 || !next.FirstObserved.Equal(&before.FirstObserved) {
		t.Errorf("after a restart: %+v episode %v, before %+v", next, episode, before)
	}
}

func TestBoundRecordCountsWhatItDrops(t *testing.T) {
	r := &drift.Record{Mode: "correct", State: drift.Corrected}
	for range 40 {
		r.Fields = append(r.Fields, drift.Field{Path: "/data/" + strings.Repeat("k", 60), ValueInMember: strings.Repeat("v", 60), ValueInHub: "x"})
	}
	b := boundRecord(r, DriftLimit)
	raw, _ := json.Marshal(b)
	if len(raw) > DriftLimit || b.OmittedFields+len(b.Fields) != 40 || len(b.Fields) == 0 || len(r.Fields) != 40 {
		t.Errorf("bounded to %d bytes, %d fields + %d omitted (input now %d)", len(raw), len(b.Fields), b.OmittedFields, len(r.Fields))
	}
	reduced := summary(workv1alpha1.ManifestStatus{Status: withRecord(rawStatus(map[string]any{"replicas": 2}), b)})
	if got := drift.Decode(reduced.Raw); got == nil || len(got.Fields) != 0 || got.OmittedFields != 40 {
		t.Errorf("reduced status %s", reduced.Raw)
	}
}
