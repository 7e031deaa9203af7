package tetherhub_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/test/testenv"
)

// TestManualApprovalOnTetherHub: 'hub init' twice, a token bound to the
// cluster name, register waiting with instructions, 'hub approve' by the
// administrator, the agent rolled out, then unregister.
func TestManualApprovalOnTetherHub(t *testing.T) {
	env := testenv.Require(t)
	member := env.Members[0]
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	for i := range 2 {
		if r := tetherAgent.Run(t, ctx, "hub", "init", "--kubeconfig", env.Hub.Kubeconfig); r.Code != 0 || !strings.Contains(r.Stdout, "is ready") {
			t.Fatalf("hub init #%d: %s", i+1, r)
		}
	}
	tok := tetherAgent.Run(t, ctx, "token", "create", "--print-register-command", "--cluster-name", "member1", "--kubeconfig", env.Hub.Kubeconfig)
	if tok.Code != 0 || !strings.HasSuffix(strings.TrimSpace(tok.Stdout), "--cluster-name member1") {
		t.Fatalf("token create: %s", tok)
	}
	args := append(strings.Fields(tok.Stdout)[1:], "--kubeconfig", member.Kubeconfig)
	reg, err := tetherAgent.Start(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	line, err := reg.WaitLine(ctx, "tether-agent hub approve ")
	if err != nil {
		r, _ := reg.Wait()
		t.Fatalf("register did not say what to approve: %v\n%s", err, r)
	}
	csr := regexp.MustCompile(`hub approve (\S+)`).FindStringSubmatch(line)[1]
	appr := tetherAgent.Run(t, ctx, "hub", "approve", csr, "--kubeconfig", env.Hub.Kubeconfig)
	if appr.Code != 0 || !strings.Contains(appr.Stdout, "Approve") {
		t.Fatalf("hub approve %s: %s", csr, appr)
	}
	r, err := reg.Wait()
	if err != nil || r.Code != 0 || !strings.Contains(r.Stdout, "cluster(member1) is joined successfully") {
		t.Fatalf("register: %v %s", err, r)
	}
	t.Logf("register with manual approval:\n%s", r.Stdout)
	crb, err := kubernetes.NewForConfigOrDie(env.Hub.Config).RbacV1().ClusterRoleBindings().Get(ctx, hub.AgentRoleName("member1"), metav1.GetOptions{})
	if err != nil || !strings.HasPrefix(crb.Annotations[hub.ClaimAnnotation], "system:bootstrap:") {
		t.Fatalf("the cluster's RBAC was not created with its claim: %v %+v", err, crb)
	}
	if again := tetherAgent.Run(t, ctx, "hub", "approve", csr, "--kubeconfig", env.Hub.Kubeconfig); again.Code == 0 || !strings.Contains(again.Stderr, "already decided") {
		t.Errorf("approving a decided CSR again must fail and say so: %s", again)
	}
	unreg := tetherAgent.Run(t, ctx, "unregister", "member1", "--kubeconfig", member.Kubeconfig, "--karmada-config", env.Hub.Kubeconfig)
	if unreg.Code != 0 || !strings.Contains(unreg.Stdout, "deleted ClusterRole system:karmada:member1:agent") {
		t.Fatalf("unregister: %s", unreg)
	}
}
