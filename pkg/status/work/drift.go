package work

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/drift"
	"github.com/tether-io/tether/pkg/manifest"
)

// Drift records on the Work. Each manifest's status entry carries, under
// drift.RecordKey, the record of its last drift episode (drift.Record). The
// writer keeps the records of each Work in memory, seeded from the hub's
// status the first time it sees the Work, so that an episode's first
// observation and repairs survive a restart and a change of leader. Each
// apply outcome's observations are folded in (drift.Next); a new episode is
// announced once, with a Normal Event on the Work and OnDriftEpisode.
//
// Write rule: a record that changed only in what an episode accumulates
// (drift.SameEpisode: last observation, repairs, values) is no reason to
// write; the status is built with the record the hub has, and the fresh
// one goes out with the next write made for another reason. So the record
// costs one write per episode and state, and none while the drifted path
// set stays the same.

// Event reasons of drift episodes (Normal Events, one per episode).
const (
	EventDriftCorrected = "DriftCorrected"
	EventDriftDetected  = "DriftDetected"
)

// workDrift is the drift records of one Work, by member object.
type workDrift struct {
	uid     types.UID
	records map[manifest.Key]*drift.Record
}

// recordKey names a manifest's member object as its status entry does.
func recordKey(id workv1alpha1.ResourceIdentifier) manifest.Key {
	return manifest.Key{Group: id.Group, Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}
}

// seedDrift returns the Work's records, read from its status on the hub
// when the writer holds none for it (w.mu held).
func (w *Writer) seedDrift(key string, work *workv1alpha1.Work) *workDrift {
	d, ok := w.drift[key]
	if ok && (work == nil || d.uid == work.UID) {
		return d
	}
	d = &workDrift{records: map[manifest.Key]*drift.Record{}}
	if work != nil {
		d.uid = work.UID
		for _, ms := range work.Status.ManifestStatuses {
			if ms.Status == nil {
				continue
			}
			if r := drift.Decode(ms.Status.Raw); r != nil {
				d.records[recordKey(ms.Identifier)] = r
			}
		}
	}
	w.drift[key] = d
	return d
}

// observeDrift folds an outcome's drift observations into the Work's
// records and announces the episodes that began.
func (w *Writer) observeDrift(key string, obs map[manifest.Key]drift.Observation) {
	if len(obs) == 0 {
		return
	}
	var work *workv1alpha1.Work
	if ns, name, ok := strings.Cut(key, "/"); ok && w.cfg.Lister != nil {
		work, _ = w.cfg.Lister.Works(ns).Get(name)
	}
	now := time.Now()
	type begun struct {
		id  manifest.Key
		rec *drift.Record
	}
	var episodes []begun
	w.mu.Lock()
	d := w.seedDrift(key, work)
	for id, o := range obs {
		next, episode := drift.Next(d.records[id], o, now)
		if next == nil {
			delete(d.records, id)
		} else {
			d.records[id] = next
		}
		if episode {
			episodes = append(episodes, begun{id, next})
		}
	}
	w.mu.Unlock()
	for _, e := range episodes {
		w.announceDrift(work, e.id, e.rec)
	}
}

// announceDrift posts the Normal Event of a new episode on the Work and
// tells OnDriftEpisode. The message names the object, the paths and the
// managers, never a value.
func (w *Writer) announceDrift(work *workv1alpha1.Work, id manifest.Key, rec *drift.Record) {
	if w.cfg.OnDriftEpisode != nil {
		w.cfg.OnDriftEpisode(id.Kind, rec)
	}
	if w.cfg.Recorder == nil || work == nil {
		return
	}
	reason, verb := EventDriftDetected, "left as it is (mode "+rec.Mode+")"
	if rec.State == drift.Corrected {
		reason, verb = EventDriftCorrected, "corrected"
	}
	w.cfg.Recorder.Event(work, corev1.EventTypeNormal, reason, TruncateMessage(driftMessage(id, rec, verb)))
}

// driftMessage describes an episode in one line: the object, up to three
// paths with their managers, how many more.
func driftMessage(id manifest.Key, rec *drift.Record, verb string) string {
	var paths []string
	for i, f := range rec.Fields {
		if i == 3 {
			break
		}
		p := f.Path
		if f.Manager != "" {
			p += " (by " + f.Manager + ")"
		}
		paths = append(paths, p)
	}
	more := len(rec.Fields) + rec.OmittedFields - len(paths)
	obj := manifest.Identity{Kind: id.Kind, Namespace: id.Namespace, Name: id.Name}.String()
	msg := fmt.Sprintf("Drift on %s in the member cluster, %s: %s", obj, verb, strings.Join(paths, ", "))
	if more > 0 {
		msg += fmt.Sprintf(" and %d more field(s)", more)
	}
	return msg
}

// driftRecord returns the record to put in the status entry of id: the
// writer's (bounded), unless the hub's record (in cur, the Work's status on
// the hub) tells the same episode: then the hub's stays, so that what an
// episode accumulates causes no write of its own.
func (w *Writer) driftRecord(key string, cur workv1alpha1.WorkStatus, id workv1alpha1.ResourceIdentifier) *drift.Record {
	mine := w.memRecord(key, id)
	if mine == nil {
		return nil
	}
	if stored := storedRecord(cur, id); stored != nil && drift.SameEpisode(mine, stored) {
		return stored
	}
	return mine
}

// memRecord is the writer's record of id, bounded; nil for none.
func (w *Writer) memRecord(key string, id workv1alpha1.ResourceIdentifier) *drift.Record {
	w.mu.Lock()
	defer w.mu.Unlock()
	d := w.drift[key]
	if d == nil || d.records[recordKey(id)] == nil {
		return nil
	}
	return boundRecord(d.records[recordKey(id)], DriftLimit)
}

// storedRecord is the record of id in the hub's status, nil for none.
func storedRecord(cur workv1alpha1.WorkStatus, id workv1alpha1.ResourceIdentifier) *drift.Record {
	for _, ms := range cur.ManifestStatuses {
		if recordKey(ms.Identifier) == recordKey(id) && ms.Status != nil {
			return drift.Decode(ms.Status.Raw)
		}
	}
	return nil
}

func sameRecord(a, b *drift.Record) bool {
	x, errA := json.Marshal(a)
	y, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(x) == string(y)
}

// withRecord adds rec under drift.RecordKey to a status entry that is a
// JSON object, or returns an object with rec alone.
func withRecord(status *runtime.RawExtension, rec *drift.Record) *runtime.RawExtension {
	if rec == nil {
		return status
	}
	m := map[string]any{}
	if status != nil && json.Unmarshal(status.Raw, &m) != nil {
		m = map[string]any{}
	}
	m[drift.RecordKey] = rec
	return rawStatus(m)
}

// refreshDrift puts into next, a status about to be written, the writer's
// records where build kept the hub's (see driftRecord), so that the write
// carries the episode's latest observation and repairs. It reports whether
// it changed anything.
func (w *Writer) refreshDrift(key string, next *workv1alpha1.WorkStatus) bool {
	changed := false
	for i := range next.ManifestStatuses {
		ms := &next.ManifestStatuses[i]
		mine := w.memRecord(key, ms.Identifier)
		if mine == nil || ms.Status == nil {
			continue
		}
		if in := drift.Decode(ms.Status.Raw); in != nil && !sameRecord(in, mine) {
			ms.Status = withRecord(ms.Status, mine)
			changed = true
		}
	}
	return changed
}
