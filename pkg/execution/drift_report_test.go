package execution

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/drift"
	"github.com/tether-io/tether/test/testenv"
)

const driftSecretValue = "hunter2-initial"

func driftManifests(ns, level string) []string {
	return []string{
		configMap(ns, "settings", map[string]string{"mode": "fast", "level": level}),
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds","namespace":"` + ns + `"},"stringData":{"password":"` + driftSecretValue + `"}}`,
	}
}

// hubDriftWrites are the hub writes a drift episode may cost: Work status
// writes and Events.
func hubDriftWrites(rec *testenv.Recorder) (status, events int) {
	for _, r := range rec.Writes() {
		switch {
		case strings.HasSuffix(r.Path, "/status") && strings.Contains(r.Path, "/works/"):
			status++
		case strings.Contains(r.Path, "/events"):
			events++
		}
	}
	return status, events
}

// recordOf reads the drift record of the Work's manifest named name.
func recordOf(t *testing.T, es, work, name string) *drift.Record {
	t.Helper()
	w, err := hubClient(t).WorkV1alpha1().Works(es).Get(context.Background(), work, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ms := range w.Status.ManifestStatuses {
		if ms.Identifier.Name == name && ms.Status != nil {
			return drift.Decode(ms.Status.Raw)
		}
	}
	return nil
}

func driftEvents(t *testing.T, es, work string) []corev1.Event {
	t.Helper()
	var out []corev1.Event
	for _, e := range eventsFor(t, es, work) {
		if strings.HasPrefix(e.Reason, "Drift") {
			out = append(out, e)
		}
	}
	return out
}

// driftRig is the Work of TestDriftIsReportedOncePerEpisode and its agent.
type driftRig struct {
	t         *testing.T
	a         *agent
	es, ns    string
	name      string
	configMap func() (*corev1.ConfigMap, error)
	update    func(*corev1.ConfigMap) error
}

// edit changes a key of the member ConfigMap with an Update under the
// field manager kubectl-edit, as kubectl edit does.
func (r *driftRig) edit(key, value string) {
	r.t.Helper()
	cm, err := r.configMap()
	must(r.t, err)
	cm.Data[key] = value
	must(r.t, r.update(cm))
}

// holds polls until the member ConfigMap's key has the value want.
func (r *driftRig) holds(key, want string) func() (bool, error) {
	return func() (bool, error) {
		cm, err := r.configMap()
		return err == nil && cm.Data[key] == want, err
	}
}

func (r *driftRig) idle() (bool, error) { return r.a.ctrl.Idle(), nil }

// TestDriftIsReportedOncePerEpisode runs the Work controller against the
// real hub and member: a member-side edit to an owned field (an Update
// under another field manager, as kubectl edit sends) is recorded on the
// Work with its path, both values and the editing manager, and repaired;
// the record costs one status write and one Event per episode, and none
// while the drifted path set stays the same; a Secret's record names the
// path only; a change of the manifest on the hub is no drift and ends the
// record.
func TestDriftIsReportedOncePerEpisode(t *testing.T) {
	a := startAgent(t, "driftrep", 1, nil)
	defer a.stop(t)
	const ns = "driftrep"
	memberNamespace(t, 1, ns)
	cms := memberClient(t, 1).CoreV1().ConfigMaps(ns)
	r := &driftRig{t: t, a: a, es: workv1alpha1.ExecutionNamespace("driftrep"), ns: ns, name: "drifty",
		configMap: func() (*corev1.ConfigMap, error) {
			return cms.Get(context.Background(), "settings", metav1.GetOptions{})
		},
		update: func(cm *corev1.ConfigMap) error {
			_, err := cms.Update(context.Background(), cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
			return err
		}}
	createWork(t, newWork("driftrep", r.name, manifests(t, driftManifests(ns, "3")...)))
	waitApplied(t, r.es, r.name, metav1.ConditionTrue)
	testenv.Eventually(t, time.Minute, "the agent idle after the first apply", r.idle)
	r.firstEpisode()
	r.repeatThenAnotherEpisode()
	r.secretEpisode()
	r.hubChange()
}

// firstEpisode: reported with path, both values and manager, then
// repaired; one status write, one Event, at most one member read.
func (r *driftRig) firstEpisode() {
	t := r.t
	r.a.member.Reset()
	r.a.hubPeek.Reset()
	r.edit("mode", "slow")
	testenv.Eventually(t, time.Minute, "the drift recorded on the Work", func() (bool, error) {
		rec := recordOf(t, r.es, r.name, "settings")
		return rec != nil && rec.State == drift.Corrected, nil
	})
	testenv.Eventually(t, time.Minute, "the edit repaired", r.holds("mode", "fast"))
	testenv.Eventually(t, time.Minute, "the agent idle after the repair", r.idle)
	rec := recordOf(t, r.es, r.name, "settings")
	want := drift.Field{Path: "/data/mode", ValueInMember: `"slow"`, ValueInHub: `"fast"`, Manager: "kubectl-edit"}
	if len(rec.Fields) != 1 || rec.Fields[0] != want || rec.Mode != "correct" || rec.Repairs != 1 || rec.FirstObserved.IsZero() {
		t.Errorf("record %+v, want one field %+v, mode correct, 1 repair", rec, want)
	}
	status, events := hubDriftWrites(r.a.hubPeek)
	member := objectRequests(r.a.member, "configmaps", r.ns, "settings")
	t.Logf("episode 1: hub status writes %d, Event writes %d; member requests %v", status, events, member)
	if status != 1 || events != 1 {
		t.Errorf("episode 1: %d status writes and %d Event writes, want 1 and 1", status, events)
	}
	if member["GET"] > 1 || member["PATCH"] != 1 || len(member) > 2 {
		t.Errorf("episode 1: member requests %v, want the repair and at most one read", member)
	}
}

// repeatThenAnotherEpisode: the same path again costs no status write and
// no Event; then another path costs one of each.
func (r *driftRig) repeatThenAnotherEpisode() {
	t := r.t
	r.a.hubPeek.Reset()
	r.edit("mode", "slower")
	testenv.Eventually(t, time.Minute, "the repeated edit repaired", r.holds("mode", "fast"))
	r.edit("level", "9")
	testenv.Eventually(t, time.Minute, "the new episode recorded", func() (bool, error) {
		rec := recordOf(t, r.es, r.name, "settings")
		return rec != nil && len(rec.Fields) == 1 && rec.Fields[0].Path == "/data/level", nil
	})
	testenv.Eventually(t, time.Minute, "the agent idle after episode 2", r.idle)
	status, events := hubDriftWrites(r.a.hubPeek)
	t.Logf("a repeat of episode 1, then episode 2: hub status writes %d, Event writes %d", status, events)
	if status != 1 || events != 1 {
		t.Errorf("the repeat and a new episode: %d status writes and %d Event writes, want 1 and 1 (none for the repeat)", status, events)
	}
	if n := len(driftEvents(t, r.es, r.name)); n != 2 {
		t.Errorf("%d drift Events on the Work, want 2 (one per episode)", n)
	}
}

// secretEpisode: a drifted Secret is recorded with its path, and its
// values are nowhere in the Work's status or Events.
func (r *driftRig) secretEpisode() {
	t := r.t
	ctx := context.Background()
	secrets := memberClient(t, 1).CoreV1().Secrets(r.ns)
	s, err := secrets.Get(ctx, "creds", metav1.GetOptions{})
	must(t, err)
	s.Data["password"] = []byte("hunter2-member")
	_, err = secrets.Update(ctx, s, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	must(t, err)
	testenv.Eventually(t, time.Minute, "the Secret's drift recorded", func() (bool, error) {
		rec := recordOf(t, r.es, r.name, "creds")
		return rec != nil && len(rec.Fields) == 1 && rec.Fields[0].Path == "/data/password" && rec.Fields[0].Manager == "kubectl-edit", nil
	})
	w, err := hubClient(t).WorkV1alpha1().Works(r.es).Get(ctx, r.name, metav1.GetOptions{})
	must(t, err)
	statusRaw, _ := json.Marshal(w.Status)
	var evs strings.Builder
	for _, e := range driftEvents(t, r.es, r.name) {
		evs.WriteString(e.Message)
	}
	for _, secret := range []string{"hunter2", base64.StdEncoding.EncodeToString([]byte("hunter2-member")), base64.StdEncoding.EncodeToString([]byte(driftSecretValue))} {
		if strings.Contains(string(statusRaw), secret) || strings.Contains(evs.String(), secret) {
			t.Errorf("the Work's status or Events carry the Secret's value %q", secret)
		}
	}
}

// hubChange: a change of the manifest on the hub is applied, not drift;
// the ConfigMap's record ends, the Secret's stays.
func (r *driftRig) hubChange() {
	t := r.t
	before := len(driftEvents(t, r.es, r.name))
	updateWork(t, r.es, r.name, func(w *workv1alpha1.Work) { w.Spec.Workload.Manifests = manifests(t, driftManifests(r.ns, "4")...) })
	waitApplied(t, r.es, r.name, metav1.ConditionTrue)
	testenv.Eventually(t, time.Minute, "the hub change applied", r.holds("level", "4"))
	testenv.Eventually(t, time.Minute, "the ConfigMap's record ended by the hub change", func() (bool, error) {
		return recordOf(t, r.es, r.name, "settings") == nil, nil
	})
	testenv.Eventually(t, time.Minute, "the agent idle after the hub change", r.idle)
	if recordOf(t, r.es, r.name, "creds") == nil {
		t.Error("the Secret's record went with a change of another manifest")
	}
	if n := len(driftEvents(t, r.es, r.name)); n != before {
		t.Errorf("a hub change posted %d drift Events", n-before)
	}
}
