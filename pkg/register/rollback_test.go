package register_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/pkg/register"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
)

// TestRegisterRollsBackWhenTheAgentDoesNotStart registers into a namespace
// whose LimitRange admits no agent pod: the rollout times out and register
// removes every member object it created, keeping the namespace it found.
func TestRegisterRollsBackWhenTheAgentDoesNotStart(t *testing.T) {
	env := tetherHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	const ns = "no-pods"
	if _, err := member.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// The agent asks for 100m CPU; LimitRanger admission refuses its pods.
	limits := &corev1.LimitRange{ObjectMeta: metav1.ObjectMeta{Name: "tiny", Namespace: ns},
		Spec: corev1.LimitRangeSpec{Limits: []corev1.LimitRangeItem{{Type: corev1.LimitTypeContainer,
			Max: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}}}}}
	if _, err := member.CoreV1().LimitRanges(ns).Create(ctx, limits, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	opts := registerOptions(t, env, newToken(t, ctx, env, hub.TokenOptions{TTL: time.Hour}))
	opts.Namespace, opts.ClusterName, opts.DiscoveryTimeout = ns, "rollback1", 15*time.Second
	var out bytes.Buffer
	err := register.Register(ctx, register.Config{Options: opts, Member: env.Members[0].Config, Out: &out})
	if err == nil || !strings.Contains(err.Error(), "did not roll out") {
		t.Fatalf("want a rollout failure, got %v\n%s", err, out.String())
	}
	t.Logf("%v\n%s", err, out.String())
	agent := register.Agent{Cluster: "rollback1", Namespace: ns}
	client, _ := objects.NewClient(env.Members[0].Config)
	if left, err := client.Existing(ctx, agent.Objects(nil)...); err != nil || len(left) > 0 {
		t.Fatalf("member objects left after the rollback: %s (%v)", objects.Refs(left), err)
	}
	if _, err := member.CoreV1().Namespaces().Get(ctx, ns, metav1.GetOptions{}); err != nil {
		t.Fatalf("the namespace register found was removed: %v", err)
	}
	if !strings.Contains(out.String(), "[rollback] the hub keeps the RBAC its approver created for rollback1") {
		t.Errorf("the rollback does not say what stays on the hub:\n%s", out.String())
	}
}
