// Package agent runs the tether-agent binary as its own process against the
// real hub and member of test/testenv and injects faults for real: a hub
// cut off by a TCP proxy, controllers that stop, SIGTERM in the middle of
// work. Writes are counted from the apiservers' audit logs.
//
// TETHER_E2E_AGENT_BINARY=path (testenv.AgentBinaryEnv) runs that tether-agent instead of one built
// from this tree: the way to show that a test fails on an older agent.
package agent

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1, Audit: true}) }

// electionArgs shorten leader election so that tests fit (defaults 15s/10s/2s).
var electionArgs = []string{"--leader-elect-lease-duration=6s", "--leader-elect-renew-deadline=4s", "--leader-elect-retry-period=1s"}

func hub(t *testing.T) karmadaclient.Interface {
	return karmadaclient.NewForConfigOrDie(testenv.Require(t).Hub.Config)
}

func member(t *testing.T) kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(testenv.Require(t).Members[0].Config)
}

// configMapWork is a Work for cluster whose one manifest is ConfigMap
// namespace/name.
func configMapWork(t *testing.T, cluster, namespace, name string) *workv1alpha1.Work {
	t.Helper()
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name}, Data: map[string]string{"k": "v"}}
	raw, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	return &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: workv1alpha1.ExecutionNamespace(cluster),
			Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
			{RawExtension: runtime.RawExtension{Raw: raw}}}}},
	}
}

// memberNamespace creates a namespace in the member and removes it when the test ends.
func memberNamespace(t *testing.T, name string) {
	t.Helper()
	cs := member(t)
	_, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.CoreV1().Namespaces().Delete(context.Background(), name, metav1.DeleteOptions{}) })
}

// leaseHolder is the holder of the agent's leader-election Lease ("" when
// released or absent).
func leaseHolder(t *testing.T, cluster string) (string, error) {
	l, err := member(t).CoordinationV1().Leases(testenv.AgentNamespace).Get(context.Background(), "karmada-agent-"+cluster, metav1.GetOptions{})
	if err != nil {
		return "", err
	}
	if l.Spec.HolderIdentity == nil {
		return "", nil
	}
	return *l.Spec.HolderIdentity, nil
}

// logCount counts the lines of the agent's log that contain s.
func logCount(t *testing.T, a *testenv.AgentProcess, s string) int {
	raw, err := os.ReadFile(a.Log)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(raw), s)
}

func describe(e testenv.AuditEvent) string {
	return fmt.Sprintf("%s %s %s/%s (received %s, done %s)", e.Verb, e.Resource, e.Namespace, e.Name,
		e.Received.Format(time.RFC3339Nano), e.Time.Format(time.RFC3339Nano))
}
