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
	const ns, name = "driftrep", "drifty"
	es := workv1alpha1.ExecutionNamespace("driftrep")
	memberNamespace(t, 1, ns)
	ctx := context.Background()
	cms := memberClient(t, 1).CoreV1().ConfigMaps(ns)
	createWork(t, newWork("driftrep", name, manifests(t, driftManifests(ns, "3")...)))
	waitApplied(t, es, name, metav1.ConditionTrue)
	idle := func() (bool, error) { return a.ctrl.Idle(), nil }
	testenv.Eventually(t, time.Minute, "the agent idle after the first apply", idle)

	edit := func(key, value string) {
		t.Helper()
		cm, err := cms.Get(ctx, "settings", metav1.GetOptions{})
		must(t, err)
		cm.Data[key] = value
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
		must(t, err)
	}
	repaired := func(key, want string) func() (bool, error) {
		return func() (bool, error) {
			cm, err := cms.Get(ctx, "settings", metav1.GetOptions{})
			return err == nil && cm.Data[key] == want, err
		}
	}

	// Episode 1: reported with path, both values and manager, then repaired.
	a.member.Reset()
	a.hubPeek.Reset()
	edit("mode", "slow")
	testenv.Eventually(t, time.Minute, "the drift recorded on the Work", func() (bool, error) {
		r := recordOf(t, es, name, "settings")
		return r != nil && r.State == drift.Corrected, nil
	})
	testenv.Eventually(t, time.Minute, "the edit repaired", repaired("mode", "fast"))
	testenv.Eventually(t, time.Minute, "the agent idle after the repair", idle)
	r := recordOf(t, es, name, "settings")
	want := drift.Field{Path: "/data/mode", ValueInMember: `"slow"`, ValueInHub: `"fast"`, Manager: "kubectl-edit"}
	if len(r.Fields) != 1 || r.Fields[0] != want || r.Mode != "correct" || r.Repairs != 1 || r.FirstObserved.IsZero() {
		t.Errorf("record %+v, want one field %+v, mode correct, 1 repair", r, want)
	}
	status, events := hubDriftWrites(a.hubPeek)
	member := objectRequests(a.member, "configmaps", ns, "settings")
	t.Logf("episode 1: hub status writes %d, Events %d; member requests %v", status, events, member)
	if status != 1 || events != 1 {
		t.Errorf("episode 1: %d status writes and %d Event writes, want 1 and 1", status, events)
	}
	if member["GET"] > 1 || member["PATCH"] != 1 || len(member) > 2 {
		t.Errorf("episode 1: member requests %v, want the repair and at most one read", member)
	}

	// The same path again: no status write, no Event; then another path:
	// one of each.
	a.hubPeek.Reset()
	edit("mode", "slower")
	testenv.Eventually(t, time.Minute, "the repeated edit repaired", repaired("mode", "fast"))
	edit("level", "9")
	testenv.Eventually(t, time.Minute, "the new episode recorded", func() (bool, error) {
		r := recordOf(t, es, name, "settings")
		return r != nil && len(r.Fields) == 1 && r.Fields[0].Path == "/data/level", nil
	})
	testenv.Eventually(t, time.Minute, "the agent idle after episode 2", idle)
	status, events = hubDriftWrites(a.hubPeek)
	t.Logf("a repeat of episode 1, then episode 2: hub status writes %d, Events %d", status, events)
	if status != 1 || events != 1 {
		t.Errorf("the repeat and a new episode: %d status writes and %d Event writes, want 1 and 1 (none for the repeat)", status, events)
	}
	if n := len(driftEvents(t, es, name)); n != 2 {
		t.Errorf("%d drift Events on the Work, want 2 (one per episode)", n)
	}

	// A drifted Secret: the path, never the value.
	secrets := memberClient(t, 1).CoreV1().Secrets(ns)
	s, err := secrets.Get(ctx, "creds", metav1.GetOptions{})
	must(t, err)
	s.Data["password"] = []byte("hunter2-member")
	_, err = secrets.Update(ctx, s, metav1.UpdateOptions{FieldManager: "kubectl-edit"})
	must(t, err)
	testenv.Eventually(t, time.Minute, "the Secret's drift recorded", func() (bool, error) {
		r := recordOf(t, es, name, "creds")
		return r != nil && len(r.Fields) == 1 && r.Fields[0].Path == "/data/password" && r.Fields[0].Manager == "kubectl-edit", nil
	})
	w, err := hubClient(t).WorkV1alpha1().Works(es).Get(ctx, name, metav1.GetOptions{})
	must(t, err)
	statusRaw, _ := json.Marshal(w.Status)
	var evs strings.Builder
	for _, e := range driftEvents(t, es, name) {
		evs.WriteString(e.Message)
	}
	for _, secret := range []string{"hunter2", base64.StdEncoding.EncodeToString([]byte("hunter2-member")), base64.StdEncoding.EncodeToString([]byte(driftSecretValue))} {
		if strings.Contains(string(statusRaw), secret) || strings.Contains(evs.String(), secret) {
			t.Errorf("the Work's status or Events carry the Secret's value %q", secret)
		}
	}

	// A change of the manifest on the hub: applied, not drift; the
	// ConfigMap's record ends, the Secret's stays.
	before := len(driftEvents(t, es, name))
	updateWork(t, es, name, func(w *workv1alpha1.Work) { w.Spec.Workload.Manifests = manifests(t, driftManifests(ns, "4")...) })
	waitApplied(t, es, name, metav1.ConditionTrue)
	testenv.Eventually(t, time.Minute, "the hub change applied", repaired("level", "4"))
	testenv.Eventually(t, time.Minute, "the ConfigMap's record ended by the hub change", func() (bool, error) {
		return recordOf(t, es, name, "settings") == nil, nil
	})
	testenv.Eventually(t, time.Minute, "the agent idle after the hub change", idle)
	if recordOf(t, es, name, "creds") == nil {
		t.Error("the Secret's record went with a change of another manifest")
	}
	if n := len(driftEvents(t, es, name)); n != before {
		t.Errorf("a hub change posted %d drift Events", n-before)
	}
}
