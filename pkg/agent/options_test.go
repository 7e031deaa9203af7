package agent

import (
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func parse(t *testing.T, args ...string) (*Options, *pflag.FlagSet, error) {
	t.Helper()
	o := NewOptions()
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	o.AddFlags(fs)
	if err := fs.Parse(args); err != nil {
		return o, fs, err
	}
	return o, fs, o.Validate()
}

// TestKarmadaAgentDeploymentArgs parses the arguments karmadactl register
// writes into karmada-agent's Deployment: Tether must accept all of them.
func TestKarmadaAgentDeploymentArgs(t *testing.T) {
	o, fs, err := parse(t,
		"--karmada-kubeconfig=/etc/kubeconfig/karmada-kubeconfig", "--karmada-context=karmada-apiserver",
		"--cluster-name=member1", "--cluster-api-endpoint=https://10.0.0.12:6443", "--cluster-provider=aws",
		"--cluster-region=eu-west-1", "--cluster-zones=a,b", "--cluster-namespace=karmada-cluster",
		"--leader-elect-resource-namespace=karmada-system", "--metrics-bind-address=:8080",
		"--health-probe-bind-address=0.0.0.0:10357", "--report-secrets=None", "--feature-gates=Foo=true",
		"--cluster-status-update-frequency=10s", "--kube-api-qps=40", "--kube-api-burst=60",
		"--cluster-api-qps=40", "--cluster-api-burst=60", "--concurrent-work-syncs=5",
		"--controllers=*,certRotation", "--leader-elect=true", "--v=4")
	if err != nil {
		t.Fatal(err)
	}
	if o.ClusterName != "member1" || len(o.ClusterZones) != 2 || o.KubeAPIQPS != 40 || o.Verbosity != 4 {
		t.Errorf("options not bound: %+v", o)
	}
	ignored := strings.Join(o.IgnoredSet(fs), " ")
	for _, f := range []string{"--cluster-namespace", "--report-secrets", "--feature-gates"} {
		if !strings.Contains(ignored, f) {
			t.Errorf("%s should be reported as accepted but ignored, got %q", f, ignored)
		}
	}
}

func TestValidateNamesTheFlag(t *testing.T) {
	for args, want := range map[string]string{
		"":                        "--cluster-name is required",
		"--cluster-name=Bad_Name": "--cluster-name \"Bad_Name\"",
		"--cluster-name=m1":       "--karmada-kubeconfig or --karmada-kubeconfig-namespace",
		"--cluster-name=m1 --karmada-kubeconfig=k --cluster-lease-renew-interval-fraction=1": "--cluster-lease-renew-interval-fraction",
		"--cluster-name=m1 --karmada-kubeconfig=k --controllers=bogus":                       "unknown controller \"bogus\"",
		"--cluster-name=m1 --karmada-kubeconfig=k --render-overrides=Sometimes":              "--render-overrides",
		"--cluster-name=m1 --karmada-kubeconfig=k --log-format=xml":                          "--log-format",
		"--cluster-name=m1 --karmada-kubeconfig=k --bulk-delete-threshold=-2":                "--bulk-delete-threshold",
		"--cluster-name=m1 --karmada-kubeconfig=k --held-delete-grace=-1s":                   "--held-delete-grace",
	} {
		_, _, err := parse(t, strings.Fields(args)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("args %q: got %v, want an error containing %q", args, err, want)
		}
	}
}

func TestControllersSelection(t *testing.T) {
	o := NewOptions()
	for _, tc := range []struct {
		list []string
		name string
		want bool
	}{
		{[]string{"*"}, "execution", true},
		{[]string{"*", "-certRotation"}, "certRotation", false},
		{[]string{"*", "-certRotation"}, "clusterStatus", true},
		{[]string{"clusterStatus"}, "execution", false},
		{[]string{"-execution", "*"}, "execution", false},
	} {
		o.Controllers = tc.list
		if got := o.enabled(tc.name); got != tc.want {
			t.Errorf("--controllers=%v: %s enabled = %v, want %v", tc.list, tc.name, got, tc.want)
		}
	}
}
