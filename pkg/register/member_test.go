package register

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"

	"github.com/tether-io/tether/pkg/agent"
)

func TestAgentArgsUseKarmadaAgentFlags(t *testing.T) {
	a := Agent{Cluster: "c1", Namespace: "agents", ClusterNamespace: "karmada-cluster", LeaderElectNamespace: "agents",
		APIEndpoint: "https://10.0.0.9:6443", Region: "eu", Zones: []string{"a", "b"}, Image: "img", Replicas: 1, CertRotation: true}
	want := []string{
		"--karmada-kubeconfig=/etc/kubeconfig/karmada-kubeconfig",
		"--karmada-context=c1@karmada-apiserver",
		"--cluster-name=c1",
		"--cluster-api-endpoint=https://10.0.0.9:6443",
		"--cluster-region=eu",
		"--cluster-zones=a,b",
		"--cluster-namespace=karmada-cluster",
		"--karmada-kubeconfig-namespace=agents",
		"--leader-elect-resource-namespace=agents",
		"--metrics-bind-address=:8080",
		"--health-probe-bind-address=:10357",
		"--controllers=*,certRotation",
	}
	if got := a.Args(); !slices.Equal(got, want) {
		t.Fatalf("args:\n got %q\nwant %q", got, want)
	}
	// The agent's own parser reads the arguments: rotation on, and off
	// when register was told so.
	for _, rotation := range []bool{true, false} {
		a.CertRotation = rotation
		o := agent.NewOptions()
		fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
		o.AddFlags(fs)
		if err := fs.Parse(a.Args()); err != nil {
			t.Fatal(err)
		}
		if err := o.Validate(); err != nil {
			t.Fatal(err)
		}
		if got := o.ControllerEnabled("certRotation"); got != rotation {
			t.Errorf("register with rotation %v: the agent runs certRotation = %v (args %q)", rotation, got, a.Args())
		}
		if !o.ControllerEnabled("execution") || !o.ControllerEnabled("clusterStatus") {
			t.Errorf("the agent does not run all its controllers with %q", a.Args())
		}
	}
	d := a.Deployment()
	c := d.Spec.Template.Spec.Containers[0]
	if c.Command[0] != "tether-agent" || c.Command[1] != "run" || c.LivenessProbe == nil || c.ReadinessProbe == nil ||
		c.Resources.Requests.Cpu().IsZero() || !*d.Spec.Template.Spec.SecurityContext.RunAsNonRoot || *c.SecurityContext.AllowPrivilegeEscalation {
		t.Fatalf("deployment container is not hardened: %+v", c)
	}
	if len(c.Env) != 1 || c.Env[0].Name != agent.MemoryLimitEnv || c.Env[0].ValueFrom.ResourceFieldRef.Resource != "limits.memory" ||
		c.Env[0].ValueFrom.ResourceFieldRef.Divisor.String() != "0" || c.Resources.Limits.Memory().IsZero() {
		t.Fatalf("the agent is not told its memory limit in bytes: env %+v, limits %v", c.Env, c.Resources.Limits)
	}
}

// TestMountedSecret: unregister finds the agent's hub kubeconfig Secret as
// karmadactl does, through the volume mounted where --karmada-kubeconfig
// points.
func TestMountedSecret(t *testing.T) {
	d := Agent{Cluster: "c1", Namespace: "agents", Image: "img", Replicas: 1}.Deployment()
	pod := d.Spec.Template.Spec
	pod.Volumes[0].Secret.SecretName = "custom-kubeconfig"
	c := pod.Containers[0]
	if got := mountedSecret(pod, c, "/etc/kubeconfig"); got != "custom-kubeconfig" {
		t.Errorf("Secret mounted at /etc/kubeconfig: %q, want custom-kubeconfig", got)
	}
	if got := mountedSecret(pod, c, "/elsewhere"); got != "" {
		t.Errorf("nothing is mounted at /elsewhere, got %q", got)
	}
}
