package faults

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// TestManifestFaults runs the manifest-level faults against one agent
// process: two Works naming one object, one Work naming an object twice, a
// namespace-less manifest across an agent restart, an identity-changing
// override, and a manifest without kind that carries Secret data.
func TestManifestFaults(t *testing.T) {
	s := newScenario(t, "manifest-faults")
	agent := s.startAgent("a", "")
	agent.WaitReady(t, 3*time.Minute)
	mark := memberMark(t, s.env)
	t.Run("two Works name one object", func(t *testing.T) { s.in(t).twoWorksOneObject(t) })
	t.Run("one Work names an object twice", func(t *testing.T) { s.in(t).objectTwice(t) })
	t.Run("identity-changing override", func(t *testing.T) { s.in(t).identityOverride(t, mark) })
	t.Run("manifest without kind carries Secret data", func(t *testing.T) { s.in(t).kindlessSecret(t, agent) })
	t.Run("namespace-less manifest across restarts", func(t *testing.T) { s.in(t).namespaceLess(t, agent, mark) })
}

// in is the scenario for a subtest: its failures end the subtest.
func (s *scenario) in(t *testing.T) *scenario {
	c := *s
	c.t = t
	return &c
}

// twoWorksOneObject: the second Work to claim an object must not fight the
// first over it; the conflict is reported naming both Works.
func (s *scenario) twoWorksOneObject(t *testing.T) {
	ctx := context.Background()
	s.createWork(s.work("owner-one", s.configMap("shared", "one")))
	s.waitWork("owner-one", 2*time.Minute, "Applied", applied)
	s.createWork(s.work("owner-two", s.configMap("shared", "two")))
	s.waitWork("owner-two", 2*time.Minute, "reconciled", func(w *workv1alpha1.Work) bool { return appliedCondition(w).Status != "" })
	// A measurement window: a fight rewrites the object continuously.
	window := 10 * time.Second
	rv := func() int64 {
		cm, err := s.member.CoreV1().ConfigMaps(s.ns).Get(ctx, "shared", metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		fmt.Sscan(cm.ResourceVersion, &n)
		return n
	}
	rv0, start := rv(), time.Now()
	user := s.memberUser("a")
	mark := memberMark(t, s.env)
	<-time.After(window)
	rv1 := rv()
	writes := 0
	for _, ev := range s.memberWrites(mark, user, false) {
		if ev.Name == "shared" {
			writes++
		}
	}
	if writes > 0 {
		t.Errorf("two Works fought over one ConfigMap: %d writes to it by the agent in %s (resourceVersion %d -> %d)", writes, time.Since(start).Round(time.Second), rv0, rv1)
	}
	w, named := s.tryWork("owner-two", time.Minute, func(w *workv1alpha1.Work) bool {
		c := appliedCondition(w)
		return c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "owner-one") && strings.Contains(c.Message, "owner-two")
	})
	if !named {
		t.Errorf("the second Work does not report a conflict naming both Works; its Applied condition: %+v", appliedCondition(w))
	}
	report(t, "two-works-one-object", "two Works name one ConfigMap with different data",
		"lost", 0, "orphaned", 0, "duplicated", 0, "agent_writes_in_10s", writes, "resource_version_delta", rv1-rv0,
		"conflict_reported", named, "message", fmt.Sprintf("%q", appliedCondition(w).Message))
}

// objectTwice: a Work listing one object twice fails that manifest clearly.
func (s *scenario) objectTwice(t *testing.T) {
	s.createWork(s.work("twice", s.configMap("twice", "a"), s.configMap("twice", "b")))
	w, failed := s.tryWork("twice", time.Minute, func(w *workv1alpha1.Work) bool {
		c := appliedCondition(w)
		return c.Status == metav1.ConditionFalse && strings.Contains(c.Message, "twice")
	})
	if !failed {
		t.Errorf("a Work listing one object twice does not fail with an error naming it; its Applied condition: %+v", appliedCondition(w))
	}
	report(t, "object-twice", "one Work lists one ConfigMap twice",
		"lost", 0, "orphaned", 0, "duplicated", 0, "failed_clearly", failed, "message", fmt.Sprintf("%q", appliedCondition(w).Message))
}

// identityOverride: an OverridePolicy that moves a manifest into kube-system
// fails that manifest; nothing is written to kube-system.
func (s *scenario) identityOverride(t *testing.T, mark testenv.AuditMark) {
	ctx := context.Background()
	value, _ := json.Marshal("kube-system")
	op := &policyv1alpha1.OverridePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "move-to-kube-system", Namespace: "default"},
		Spec: policyv1alpha1.OverrideSpec{
			ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "v1", Kind: "ConfigMap", Name: "moved"}},
			OverrideRules: []policyv1alpha1.RuleWithCluster{{
				TargetCluster: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{s.cluster}},
				Overriders: policyv1alpha1.Overriders{Plaintext: []policyv1alpha1.PlaintextOverrider{{
					Path: "/metadata/namespace", Operator: policyv1alpha1.OverriderOpReplace, Value: apiextensionsv1.JSON{Raw: value}}}},
			}},
		},
	}
	if _, err := s.hub.PolicyV1alpha1().OverridePolicies("default").Create(ctx, op, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = s.hub.PolicyV1alpha1().OverridePolicies("default").Delete(ctx, op.Name, metav1.DeleteOptions{})
	})
	s.createWork(s.work("moved", rawManifest(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": "moved", "namespace": "default"}, "data": map[string]any{"k": "v"}})))
	w := s.waitWork("moved", 2*time.Minute, "reconciled", func(w *workv1alpha1.Work) bool { return appliedCondition(w).Status != "" })
	if c := appliedCondition(w); c.Status != metav1.ConditionFalse {
		t.Errorf("the identity-changing override did not fail the manifest; Applied condition: %+v", c)
	}
	if _, err := s.member.CoreV1().ConfigMaps("kube-system").Get(ctx, "moved", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the override moved the ConfigMap into kube-system (get: %v)", err)
	}
	var intoTarget int
	for _, ev := range s.memberWrites(mark, s.memberUser("a"), false) {
		if ev.Namespace == "kube-system" {
			intoTarget++
		}
	}
	if intoTarget != 0 {
		t.Errorf("the agent wrote %d times into kube-system", intoTarget)
	}
	report(t, "identity-override", "an OverridePolicy replaces /metadata/namespace with kube-system",
		"lost", 0, "orphaned", 0, "duplicated", 0, "writes_into_kube_system", intoTarget,
		"message", fmt.Sprintf("%q", appliedCondition(w).Message))
}

// kindlessSecret: a Secret manifest without kind fails, and its data shows
// nowhere: not in the Work's status, not in Events, not in the agent's log.
func (s *scenario) kindlessSecret(t *testing.T, agent *testenv.AgentProcess) {
	ctx := context.Background()
	const password, token = "hunter2-do-not-leak", "s3cr3t-token-do-not-leak"
	encoded := base64.StdEncoding.EncodeToString([]byte(password))
	s.createWork(s.work("kindless", rawManifest(map[string]any{"apiVersion": "v1",
		"metadata": map[string]any{"name": "leaky", "namespace": s.ns}, "type": "Opaque",
		"data": map[string]any{"password": encoded}, "stringData": map[string]any{"token": token}})))
	w := s.waitWork("kindless", 2*time.Minute, "Applied=False", func(w *workv1alpha1.Work) bool {
		return appliedCondition(w).Status == metav1.ConditionFalse
	})
	leaked := 0
	leaks := func(where, text string) {
		for _, secret := range []string{password, encoded, token} {
			if strings.Contains(text, secret) {
				t.Errorf("the Secret's data is in %s", where)
				leaked++
				return
			}
		}
	}
	status, _ := json.Marshal(w.Status)
	leaks("the Work's status", string(status))
	events, err := s.hubKube.CoreV1().Events(s.es).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range events.Items {
		leaks("Event "+ev.Name, ev.Message)
	}
	if log, err := os.ReadFile(agent.Log); err == nil {
		leaks("the agent's log", string(log))
	}
	report(t, "kindless-secret", "a Secret manifest without kind, with data and stringData",
		"lost", 0, "orphaned", 0, "duplicated", 0, "events_checked", len(events.Items), "status_bytes", len(status),
		"places_leaked", leaked, "message", redacted(appliedCondition(w).Message, leaked))
}

// namespaceLess: a namespaced manifest without metadata.namespace lands in
// default and keeps its UID across an agent restart and a Work edit.
func (s *scenario) namespaceLess(t *testing.T, agent *testenv.AgentProcess, mark testenv.AuditMark) {
	ctx := context.Background()
	cm := func(v string) workv1alpha1.Manifest {
		return rawManifest(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "nsless-" + s.cluster}, "data": map[string]any{"k": v}})
	}
	name := "nsless-" + s.cluster
	s.createWork(s.work("nsless", cm("v1")))
	s.waitWork("nsless", 2*time.Minute, "Applied", applied)
	first, err := s.member.CoreV1().ConfigMaps("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if code := agent.Stop(); code != 0 {
		t.Errorf("agent exit code after SIGTERM = %d, want 0", code)
	}
	agent.Restart(t)
	agent.WaitReady(t, 3*time.Minute)
	s.updateWork("nsless", func(w *workv1alpha1.Work) { w.Spec.Workload.Manifests = []workv1alpha1.Manifest{cm("v2")} })
	testenv.Poll(t, 250*time.Millisecond, 2*time.Minute, "the edit reaches the member", func(ctx context.Context) (bool, error) {
		got, err := s.member.CoreV1().ConfigMaps("default").Get(ctx, name, metav1.GetOptions{})
		return err == nil && got.Data["k"] == "v2", nil
	})
	now, err := s.member.CoreV1().ConfigMaps("default").Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deletes := 0
	for _, ev := range s.memberWrites(mark, s.memberUser("a"), false) {
		if ev.Verb == "delete" && ev.Name == name {
			deletes++
		}
	}
	if now.UID != first.UID || deletes != 0 {
		t.Errorf("the namespace-less ConfigMap was re-created across a restart and an edit: UID %s -> %s, %d deletes", first.UID, now.UID, deletes)
	}
	report(t, "namespace-less", "a ConfigMap manifest without metadata.namespace; agent restarted; Work edited",
		"lost", 0, "orphaned", 0, "duplicated", deletes, "same_uid", now.UID == first.UID)
}

// redacted quotes an error message for a FAULT line, unless it leaked the
// Secret's data.
func redacted(msg string, leaked int) string {
	if leaked > 0 {
		return fmt.Sprintf("<%d bytes, withheld: it carries the Secret's data>", len(msg))
	}
	return fmt.Sprintf("%q", msg)
}
