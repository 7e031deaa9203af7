package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

const (
	outageWorks = 500
	// outage is how long the hub stays down.
	outage = 2 * time.Minute
	// statusCatchUp is how soon after the hub returns its Work status must
	// reflect what changed on the member during the outage.
	statusCatchUp = 10 * time.Second
)

// TestHubOutage: the hub apiserver is stopped for two minutes under an agent
// with 500 Works applied. The member is left alone (no delete, no write but
// the repair of a member-side edit, which happens during the outage); when
// the hub returns, Work status catches up with what changed on the member
// within 10 s, with a bounded number of hub writes.
func TestHubOutage(t *testing.T) {
	s := newScenario(t, "hub-outage")
	env := s.env
	user := s.memberUser("a")
	agent := s.startAgent("a", "")
	agent.WaitReady(t, 3*time.Minute)
	s.createWorks(outageWorks)
	s.createWork(s.work("probe", probeDeployment(s.ns)))
	s.waitAllApplied(outageWorks+1, 10*time.Minute)
	s.waitConverged(2 * time.Minute)
	s.waitWork("probe", 3*time.Minute, "reports 1 ready replica", func(w *workv1alpha1.Work) bool { return readyReplicas(w) == 1 })

	mMark := memberMark(t, env)
	down := time.Now()
	if err := env.StopAPIServer(env.Hub); err != nil {
		t.Fatal(err)
	}
	restarted := false
	t.Cleanup(func() {
		if !restarted { // leave a running hub to the scenarios that follow
			_ = env.StartAPIServer(context.Background(), env.Hub)
		}
	})
	ctx := context.Background()

	// A member-side edit of a field the agent owns, repaired while the hub is away.
	cms := s.member.CoreV1().ConfigMaps(s.ns)
	edited := cmName(7)
	if err := retry(func() error {
		cm, err := cms.Get(ctx, edited, metav1.GetOptions{})
		if err != nil {
			return err
		}
		cm.Data["k"] = "tampered"
		_, err = cms.Update(ctx, cm, metav1.UpdateOptions{FieldManager: "someone"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	editedAt := time.Now()
	testenv.Poll(t, 250*time.Millisecond, outage-time.Since(down), "the member-side edit repaired during the hub outage", func(ctx context.Context) (bool, error) {
		cm, err := cms.Get(ctx, edited, metav1.GetOptions{})
		return err == nil && cm.Data["k"] == "v1", err
	})
	repair := time.Since(editedAt)

	// A change the Work status must report once the hub is back: the member
	// scales the Deployment whose replicas it owns (retain-replicas).
	scale := &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: "probe", Namespace: s.ns}, Spec: autoscalingv1.ScaleSpec{Replicas: 2}}
	if err := retry(func() error {
		_, err := s.member.AppsV1().Deployments(s.ns).UpdateScale(ctx, "probe", scale, metav1.UpdateOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	testenv.Poll(t, time.Second, outage, "the member's Deployment has 2 ready replicas", func(ctx context.Context) (bool, error) {
		d, err := s.member.AppsV1().Deployments(s.ns).Get(ctx, "probe", metav1.GetOptions{})
		return err == nil && d.Status.ReadyReplicas == 2, err
	})

	// The rest of the two minutes; the agent must stay up throughout.
	if err := wait.PollUntilContextTimeout(ctx, time.Second, time.Until(down.Add(outage)), true, func(context.Context) (bool, error) {
		if code, done := agent.Exited(); done {
			return false, fmt.Errorf("the agent exited with code %d during the hub outage", code)
		}
		return false, nil
	}); err != nil && !wait.Interrupted(err) {
		t.Fatal(err)
	}
	during := s.memberWrites(mMark, user, false)
	var deletes, stray int
	for _, ev := range during {
		switch {
		case ev.Verb == "delete" || ev.Verb == "deletecollection":
			deletes++
		case ev.Resource != "configmaps" || ev.Name != edited:
			stray++
		}
	}
	if deletes != 0 || stray != 0 {
		t.Errorf("during the hub outage the agent made %d member deletes and %d writes other than the repair of %s: %s",
			deletes, stray, edited, describe(during))
	}

	hMark := hubMark(t, env)
	if err := env.StartAPIServer(ctx, env.Hub); err != nil {
		t.Fatal(err)
	}
	restarted = true
	back := time.Now()
	s.waitWork("probe", 2*time.Minute, "reports the 2 ready replicas the member scaled to", func(w *workv1alpha1.Work) bool { return readyReplicas(w) == 2 })
	catchUp := time.Since(back)
	if catchUp > statusCatchUp {
		t.Errorf("the Work status caught up %s after the hub returned, want within %s", catchUp.Round(time.Millisecond), statusCatchUp)
	}
	s.waitAllApplied(outageWorks+1, 2*time.Minute)
	// A measurement window after the hub's return: a storm of status
	// rewrites would show here.
	window := 30 * time.Second
	<-time.After(time.Until(back.Add(window)))
	hub := s.hubWrites(hMark)
	statusWrites := 0
	for _, ev := range hub {
		if ev.Resource == "works" && ev.Subresource == "status" {
			statusWrites++
		}
	}
	// One Work changed on the member; a few rewrites are tolerated, one per
	// Work would be a storm.
	if statusWrites > 20 {
		t.Errorf("%d Work status writes in the %s after the hub returned (one Work changed): %s", statusWrites, window, describe(hub))
	}
	tl, err := s.tally(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !tl.converged() {
		t.Errorf("after the outage: %s", tl)
	}
	report(t, "hub-outage", fmt.Sprintf("hub apiserver stopped %s, %d Works applied", outage, outageWorks),
		"lost", len(tl.lost), "orphaned", len(tl.orphaned), "duplicated", 0,
		"member_writes_during_outage", len(during), "member_deletes_during_outage", deletes,
		"drift_repair_during_outage", repair.Round(time.Millisecond),
		"hub_writes_30s_after_return", len(hub), "work_status_writes_30s_after_return", statusWrites,
		"status_catch_up", catchUp.Round(time.Millisecond), "converge", catchUp.Round(time.Millisecond))
}

// probeDeployment is a one-replica Deployment whose replicas the member
// owns (Karmada's retain-replicas label), to change its status on the member.
func probeDeployment(ns string) workv1alpha1.Manifest {
	labels := map[string]any{"app": "probe"}
	return rawManifest(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "probe", "namespace": ns,
			"labels": map[string]any{"app": "probe", workv1alpha1.RetainReplicasLabel: "true"}},
		"spec": map[string]any{"replicas": 1, "selector": map[string]any{"matchLabels": labels},
			"template": map[string]any{"metadata": map[string]any{"labels": labels},
				"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "nginx"}}}}}})
}

// readyReplicas is the readyReplicas a Work's first manifest status reports, -1 when none.
func readyReplicas(w *workv1alpha1.Work) int {
	if len(w.Status.ManifestStatuses) == 0 || w.Status.ManifestStatuses[0].Status == nil {
		return -1
	}
	var st struct {
		ReadyReplicas int `json:"readyReplicas"`
	}
	if err := json.Unmarshal(w.Status.ManifestStatuses[0].Status.Raw, &st); err != nil {
		return -1
	}
	return st.ReadyReplicas
}

// TestAgentStartsDuringHubOutage: the agent is started while the hub is
// unreachable (the proxy between them is cut). It stays up and not ready;
// once the link is back it joins and applies a new Work.
func TestAgentStartsDuringHubOutage(t *testing.T) {
	s := newScenario(t, "offline-start")
	ctx := context.Background()
	proxy, err := testenv.NewProxy(s.env.Hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proxy.Close() })
	kc, err := s.env.Hub.AgentKubeconfig(ctx, s.cluster, proxy.URL())
	if err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	agent := s.startAgent("a", kc)
	// Observe the agent for a while with the hub unreachable: it must keep
	// trying, stay up, and never report ready.
	window, readyAt := 45*time.Second, time.Duration(0)
	start := time.Now()
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, window, true, func(context.Context) (bool, error) {
		if code, done := agent.Exited(); done {
			return false, fmt.Errorf("the agent exited with code %d while the hub was unreachable", code)
		}
		if agent.Readyz() == http.StatusOK && readyAt == 0 {
			readyAt = time.Since(start)
		}
		return false, nil
	})
	if err != nil && !wait.Interrupted(err) {
		t.Fatal(err)
	}
	if readyAt != 0 {
		t.Errorf("/readyz answered 200 %s after start, with the hub unreachable", readyAt.Round(time.Millisecond))
	}
	if proxy.Refused() == 0 {
		t.Error("the agent never tried the hub while it was unreachable")
	}
	proxy.Restore()
	restored := time.Now()
	agent.WaitReady(t, 3*time.Minute)
	ready := time.Since(restored)
	s.createWork(s.work("after-outage", s.configMap("after-outage", "v1")))
	s.waitWork("after-outage", 2*time.Minute, "Applied", applied)
	if _, err := s.member.CoreV1().ConfigMaps(s.ns).Get(ctx, "after-outage", metav1.GetOptions{}); err != nil {
		if apierrors.IsNotFound(err) {
			t.Fatal("the Work is Applied but its ConfigMap is not on the member")
		}
		t.Fatal(err)
	}
	report(t, "offline-start", fmt.Sprintf("agent started with the hub proxy cut for %s", window),
		"lost", 0, "orphaned", 0, "duplicated", 0, "ready_while_cut", readyAt != 0, "hub_connections_refused", proxy.Refused(),
		"ready_after_restore", ready.Round(time.Millisecond), "converge", time.Since(restored).Round(time.Millisecond))
}
