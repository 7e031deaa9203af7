// Package demo drives the README's demo through the built tether-agent
// binary, never through library calls: on a local hub and two members it runs
// 'hub init', Tether's CSR approver, 'token create --print-register-command'
// and the printed 'register' command for each member, starts the agents as
// processes, and creates the example (an nginx Deployment, one Work per
// member with one replica each, and an OverridePolicy that sets the tag 1.20
// on member1 only). make demo and the end-to-end test share it.
package demo

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// Options shape a demo run.
type Options struct {
	// Binary is the tether-agent binary to drive.
	Binary string
	// AgentArgs are extra flags for every 'tether-agent run'.
	AgentArgs []string
	// Log receives progress lines.
	Log func(format string, args ...any)
}

// Agent is one agent process the demo started.
type Agent struct {
	Cluster    string
	Process    *testenv.Process
	MetricsURL string
	HealthURL  string
}

// Up runs the registration flow on env's hub and members, starts one agent
// per member, and creates the example. It returns the agents.
func Up(ctx context.Context, env *testenv.Env, o Options) ([]*Agent, error) {
	if o.Log == nil {
		o.Log = func(string, ...any) {}
	}
	hub := env.Hub.Kubeconfig
	o.Log("hub init")
	if _, err := run(ctx, o.Binary, "hub", "init", "--kubeconfig", hub); err != nil {
		return nil, err
	}
	if _, err := env.Spawn("approver", o.Binary, "hub", "approver", "--kubeconfig", hub); err != nil {
		return nil, err
	}
	var agents []*Agent
	for _, m := range env.Members {
		o.Log("token create --print-register-command for %s", m.Name)
		out, err := run(ctx, o.Binary, "token", "create", "--print-register-command", "--cluster-name", m.Name, "--kubeconfig", hub)
		if err != nil {
			return nil, err
		}
		args, err := registerArgs(out)
		if err != nil {
			return nil, err
		}
		o.Log("register %s (the printed command, with the member's kubeconfig)", m.Name)
		args = append(args, "--kubeconfig", m.Kubeconfig, "--cluster-name", m.Name)
		if _, err := run(ctx, o.Binary, args...); err != nil {
			return nil, err
		}
		a, err := startAgent(env, o, m)
		if err != nil {
			return nil, err
		}
		agents = append(agents, a)
	}
	o.Log("creating the example: nginx Works for member1 and member2, and an OverridePolicy for member1")
	if err := createExample(ctx, env); err != nil {
		return nil, err
	}
	return agents, nil
}

// StartAgent starts one more agent process for member m (a second replica).
func StartAgent(env *testenv.Env, o Options, m *testenv.Cluster) (*Agent, error) {
	return startAgent(env, o, m)
}

func startAgent(env *testenv.Env, o Options, m *testenv.Cluster) (*Agent, error) {
	ports, err := testenv.FreePorts(2)
	if err != nil {
		return nil, err
	}
	a := &Agent{Cluster: m.Name,
		MetricsURL: fmt.Sprintf("http://127.0.0.1:%d/metrics", ports[0]),
		HealthURL:  fmt.Sprintf("http://127.0.0.1:%d/readyz", ports[1])}
	args := append([]string{"run",
		"--kubeconfig", m.Kubeconfig, "--karmada-kubeconfig-namespace", "karmada-system",
		"--cluster-name", m.Name, "--cluster-api-endpoint", m.URL,
		"--leader-elect-resource-namespace", "karmada-system",
		"--metrics-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"--health-probe-bind-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
	}, o.AgentArgs...)
	name := "agent-" + m.Name
	for i := 2; env.HasProcess(name); i++ {
		name = fmt.Sprintf("agent-%s-%d", m.Name, i)
	}
	if a.Process, err = env.Spawn(name, o.Binary, args...); err != nil {
		return nil, err
	}
	o.Log("started %s (pid %d, metrics %s, log %s)", name, a.Process.Pid, a.MetricsURL, a.Process.Log)
	return a, nil
}

const nginxDeployment = `{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"nginx","namespace":"default","labels":{"app":"nginx"}},
"spec":{"replicas":1,"selector":{"matchLabels":{"app":"nginx"}},"template":{"metadata":{"labels":{"app":"nginx"}},
"spec":{"containers":[{"name":"nginx","image":"nginx","ports":[{"containerPort":80}]}]}}}}`

// createExample plays the control plane: the Deployment's two replicas are
// divided into one Work per member, and the OverridePolicy targets member1.
func createExample(ctx context.Context, env *testenv.Env) error {
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	kube := kubernetes.NewForConfigOrDie(env.Hub.Config)
	op := &policyv1alpha1.OverridePolicy{
		ObjectMeta: metav1.ObjectMeta{Name: "nginx-tag-member1", Namespace: "default"},
		Spec: policyv1alpha1.OverrideSpec{
			ResourceSelectors: []policyv1alpha1.ResourceSelector{{APIVersion: "apps/v1", Kind: "Deployment", Name: "nginx"}},
			OverrideRules: []policyv1alpha1.RuleWithCluster{{
				TargetCluster: &policyv1alpha1.ClusterAffinity{ClusterNames: []string{"member1"}},
				Overriders: policyv1alpha1.Overriders{ImageOverrider: []policyv1alpha1.ImageOverrider{
					{Component: policyv1alpha1.Tag, Operator: policyv1alpha1.OverriderOpReplace, Value: "1.20"}}},
			}},
		},
	}
	if _, err := hub.PolicyV1alpha1().OverridePolicies("default").Create(ctx, op, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("create OverridePolicy default/%s: %w", op.Name, err)
	}
	for _, m := range env.Members {
		ns := workv1alpha1.ExecutionNamespace(m.Name)
		if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		w := &workv1alpha1.Work{
			ObjectMeta: metav1.ObjectMeta{Name: "nginx-deployment", Namespace: ns, Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
			Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
				{RawExtension: runtime.RawExtension{Raw: []byte(nginxDeployment)}}}}},
		}
		if _, err := hub.WorkV1alpha1().Works(ns).Create(ctx, w, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create Work %s/%s: %w", ns, w.Name, err)
		}
	}
	return nil
}

// registerArgs turns the printed register command into arguments.
func registerArgs(printed string) ([]string, error) {
	fields := strings.Fields(strings.ReplaceAll(printed, "\\\n", " "))
	for i, f := range fields {
		if f == "register" && i > 0 && strings.HasSuffix(fields[i-1], "tether-agent") {
			var args []string
			for _, a := range fields[i:] {
				if a != "\\" {
					args = append(args, a)
				}
			}
			return args, nil
		}
	}
	return nil, fmt.Errorf("'token create --print-register-command' printed no 'tether-agent register' command:\n%s", printed)
}

func run(ctx context.Context, bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("tether-agent %s: %w\n%s%s", strings.Join(redact(args), " "), err, out.String(), errOut.String())
	}
	return out.String(), nil
}

// redact hides the bootstrap token's secret in messages.
func redact(args []string) []string {
	out := append([]string(nil), args...)
	for i := range out {
		if i > 0 && out[i-1] == "--token" {
			if id, _, ok := strings.Cut(out[i], "."); ok {
				out[i] = id + ".<redacted>"
			}
		}
	}
	return out
}
