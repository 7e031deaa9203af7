package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// TestCommandForArgv0: the binary named karmada-agent is the agent itself,
// under any other name the CLI.
func TestCommandForArgv0(t *testing.T) {
	for argv0, want := range map[string]string{
		"/bin/karmada-agent": KarmadaAgentName, "karmada-agent": KarmadaAgentName,
		"/usr/local/bin/tether-agent": "tether-agent", "./karmada-agent-old": "tether-agent",
	} {
		if got := commandFor(argv0).Name(); got != want {
			t.Errorf("invoked as %s: command %s, want %s", argv0, got, want)
		}
	}
	var out bytes.Buffer
	cmd := commandFor("/bin/karmada-agent")
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"--cluster-name=Bad_Name", "--karmada-kubeconfig=/etc/kubeconfig/karmada-kubeconfig", "--logtostderr", "--v=2"})
	if err := cmd.ExecuteContext(t.Context()); err == nil || !strings.Contains(err.Error(), `--cluster-name "Bad_Name"`) {
		t.Fatalf("karmada-agent with a bad --cluster-name: want the agent's validation error, got %v", err)
	}
}

// karmadactlAgentArgs is the command line karmadactl register writes into
// karmada-agent's Deployment (its flags, in its order), with --kubeconfig
// and loopback addresses because the agent runs outside the member here.
func karmadactlAgentArgs(hubKubeconfig, cluster, endpoint, memberKubeconfig string, ports []int) []string {
	return []string{
		"--karmada-kubeconfig=" + hubKubeconfig, "--cluster-name=" + cluster, "--cluster-api-endpoint=" + endpoint,
		"--cluster-provider=", "--cluster-region=", "--cluster-zones=", "--controllers=*", "--proxy-server-address=",
		"--leader-elect-resource-namespace=karmada-system", "--cluster-namespace=karmada-cluster",
		"--cluster-status-update-frequency=10s",
		fmt.Sprintf("--metrics-bind-address=127.0.0.1:%d", ports[0]), fmt.Sprintf("--health-probe-bind-address=127.0.0.1:%d", ports[1]),
		"--v=2", "--kubeconfig=" + memberKubeconfig,
		// Bare bool flags of klog and karmada-agent.
		"--logtostderr", "--enable-cluster-resource-modeling", "--feature-gates=PropagateDeps=true",
	}
}

// TestBinaryAsKarmadaAgent runs the built binary under the name
// karmada-agent, as karmadactl's Deployment does (/bin/karmada-agent
// <flags>): --help and version answer as karmada-agent's, and with
// karmadactl's command line it joins the real hub, naming the flags it
// ignores in one warning.
func TestBinaryAsKarmadaAgent(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bin, err := testenv.BuildAgent(dir)
	if err != nil {
		t.Fatal(err)
	}
	agentBin := filepath.Join(dir, KarmadaAgentName)
	if err := os.Symlink(bin, agentBin); err != nil {
		t.Fatal(err)
	}
	help, err := exec.CommandContext(ctx, agentBin, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(help), "Usage:\n  karmada-agent [flags]") || !strings.Contains(string(help), "--karmada-kubeconfig") {
		t.Fatalf("karmada-agent --help: %v\n%s", err, help)
	}
	if out, err := exec.CommandContext(ctx, agentBin, "version").CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "tether-agent ") {
		t.Fatalf("karmada-agent version: %v\n%s", err, out)
	}

	const cluster = "argv0-member"
	member := env.Members[0]
	hubKubeconfig, err := env.Hub.AgentKubeconfig(ctx, cluster, env.Hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	kube := kubernetes.NewForConfigOrDie(member.Config)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "karmada-system"}}
	if _, err := kube.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	ports, err := testenv.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	proc, err := env.Spawn("karmada-agent-"+cluster, agentBin, karmadactlAgentArgs(hubKubeconfig, cluster, member.URL, member.Kubeconfig, ports)...)
	if err != nil {
		t.Fatal(err)
	}
	karmada := versioned.NewForConfigOrDie(env.Hub.Config)
	t.Cleanup(func() {
		proc.Stop(30 * time.Second)
		_ = karmada.ClusterV1alpha1().Clusters().Delete(context.Background(), cluster, metav1.DeleteOptions{})
		if t.Failed() {
			log, _ := os.ReadFile(proc.Log)
			t.Logf("agent log:\n%s", log)
		}
	})
	testenv.Eventually(t, 2*time.Minute, "the agent started as karmada-agent joins the hub with a KubernetesVersion", func() (bool, error) {
		c, err := karmada.ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil && c.Status.KubernetesVersion != "", err
	})
	log, err := os.ReadFile(proc.Log)
	if err != nil {
		t.Fatal(err)
	}
	var warnings []string
	for _, line := range strings.Split(string(log), "\n") {
		if strings.Contains(line, "have no effect in Tether") {
			warnings = append(warnings, line)
		}
	}
	if len(warnings) != 1 {
		t.Fatalf("want one warning line naming the ignored flags, got %d:\n%s", len(warnings), strings.Join(warnings, "\n"))
	}
	for _, f := range []string{"--enable-cluster-resource-modeling", "--feature-gates", "--logtostderr"} {
		if !strings.Contains(warnings[0], f) {
			t.Errorf("the warning does not name %s: %s", f, warnings[0])
		}
	}
}
