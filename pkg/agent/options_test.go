package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes/fake"
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
	for _, f := range []string{"--feature-gates"} {
		if !strings.Contains(ignored, f) {
			t.Errorf("%s should be reported as accepted but ignored, got %q", f, ignored)
		}
	}
}

func TestValidateNamesTheFlag(t *testing.T) {
	for args, want := range map[string]string{
		"":                        "--cluster-name is required",
		"--cluster-name=Bad_Name": "--cluster-name \"Bad_Name\"",
		"--cluster-name=m1 --karmada-kubeconfig-namespace=":                                  "--karmada-kubeconfig or --karmada-kubeconfig-namespace",
		"--cluster-name=m1 --karmada-kubeconfig=k --cluster-lease-renew-interval-fraction=1": "--cluster-lease-renew-interval-fraction",
		"--cluster-name=m1 --karmada-kubeconfig=k --controllers=bogus":                       "unknown controller \"bogus\"",
		"--cluster-name=m1 --karmada-kubeconfig=k --render-overrides=Sometimes":              "--render-overrides",
		"--cluster-name=m1 --karmada-kubeconfig=k --log-format=xml":                          "--log-format",
		"--cluster-name=m1 --karmada-kubeconfig=k --drift-mode=repair":                       "--drift-mode must be correct or report",
		"--cluster-name=m1 --karmada-kubeconfig=k --drift-mode=ignore":                       "tether.io/drift-ignore-paths",
		"--cluster-name=m1 --karmada-kubeconfig=k --bulk-delete-threshold=-2":                "--bulk-delete-threshold",
		"--cluster-name=m1 --karmada-kubeconfig=k --held-delete-grace=-1s":                   "--held-delete-grace",
	} {
		_, _, err := parse(t, strings.Fields(args)...)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("args %q: got %v, want an error containing %q", args, err, want)
		}
	}
}

// TestControllersSelection: karmada-agent's rule, the first entry naming a
// controller decides, '*' enables those on by default; certRotation is off
// by default.
func TestControllersSelection(t *testing.T) {
	o := NewOptions()
	if !o.enabled("certRotation") || !o.enabled("execution") {
		t.Errorf("without --controllers, Tether runs every controller and keeps the certificate renewed; got %v", o.Controllers)
	}
	for _, tc := range []struct {
		list []string
		name string
		want bool
	}{
		{[]string{"*"}, "execution", true},
		{[]string{"*"}, "workStatus", true},
		{[]string{"*"}, "clusterStatus", true},
		{[]string{"*"}, "certRotation", false},
		{[]string{"*", "certRotation"}, "certRotation", true},
		{[]string{"certRotation", "*"}, "certRotation", true},
		{[]string{"*", "-certRotation"}, "certRotation", false},
		{[]string{"*", "-certRotation"}, "clusterStatus", true},
		{[]string{"clusterStatus"}, "execution", false},
		{[]string{"-execution", "*"}, "execution", false},
		{[]string{"execution", "-execution"}, "execution", true},
	} {
		o.Controllers = tc.list
		if got := o.enabled(tc.name); got != tc.want {
			t.Errorf("--controllers=%v: %s enabled = %v, want %v", tc.list, tc.name, got, tc.want)
		}
	}
}

// TestControllersValidation: execution and workStatus are one controller in
// Tether, so disabling one alone is refused with a message saying why.
func TestControllersValidation(t *testing.T) {
	base := []string{"--cluster-name=m1", "--karmada-kubeconfig=k"}
	for _, tc := range []struct {
		controllers string
		want        string // "" = valid
	}{
		{"*", ""},
		{"*,certRotation", ""},
		{"*,-execution,-workStatus", ""},
		{"clusterStatus", ""},
		{"execution,workStatus", ""},
		{"*,serviceExport,-endpointsliceCollect", ""},
		{"*,-workStatus", "disables workStatus alone"},
		{"*,-execution", "disables execution alone"},
		{"clusterStatus,execution", "disables workStatus alone"},
		{"-clusterStatus,-execution,-workStatus", "enables none of"},
		{"*,bogus", `unknown controller "bogus"`},
	} {
		_, _, err := parse(t, append(base, "--controllers="+tc.controllers)...)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("--controllers=%s: %v", tc.controllers, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("--controllers=%s: got %v, want an error containing %q", tc.controllers, err, tc.want)
		}
	}
}

// karmadaAgentFlag is one line of testdata/karmada-agent-flags.tsv: the
// flag set of karmada-agent (Karmada f8fdd02df) as its command registers it,
// with klog's and component-base's flags: name, shorthand ("-" for none),
// value type.
type karmadaAgentFlag struct{ name, shorthand, typ string }

func karmadaAgentFlags(t *testing.T) []karmadaAgentFlag {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "karmada-agent-flags.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []karmadaAgentFlag
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			t.Fatalf("bad line %q", line)
		}
		out = append(out, karmadaAgentFlag{f[0], f[1], f[2]})
	}
	if len(out) < 50 {
		t.Fatalf("only %d flags in the testdata", len(out))
	}
	return out
}

// sampleValues are values of each flag type that karmada-agent accepts.
var sampleValues = map[string]string{
	"duration": "30s", "int": "7", "uint64": "100", "float32": "55", "float64": "0.3", "string": "x",
	"stringSlice": "a,b", "mapStringBool": "Foo=true,Bar=false", "quantity": "1Ki", "severity": "ERROR",
	"traceLocation": "file.go:10", "Level": "4", "pattern=N,...": "foo=2",
}

// flagValues are values where a type's sample would fail Tether's validation.
var flagValues = map[string]string{
	"controllers": "*,certRotation", "logging-format": "json", "cluster-name": "member1",
	"cluster-lease-renew-interval-fraction": "0.3", "cert-rotation-remaining-time-threshold": "0.3",
	"health-probe-bind-address": "0", "metrics-bind-address": "0", "profiling-bind-address": ":6060",
	"report-secrets": "KubeCredentials,KubeImpersonator",
}

// TestEveryKarmadaAgentFlagParses parses every flag of karmada-agent in the
// --flag=value form, and every bool flag bare and with true and false, and
// validates the result: a karmada-agent command line never fails on a flag.
func TestEveryKarmadaAgentFlagParses(t *testing.T) {
	base := []string{"--cluster-name=member1", "--karmada-kubeconfig=/etc/kubeconfig/karmada-kubeconfig"}
	for _, f := range karmadaAgentFlags(t) {
		var forms [][]string
		if f.typ == "bool" {
			forms = [][]string{{"--" + f.name}, {"--" + f.name + "=true"}, {"--" + f.name + "=false"}, {"--" + f.name, "--v=2"}}
		} else {
			v, ok := flagValues[f.name]
			if !ok {
				if v, ok = sampleValues[f.typ]; !ok {
					t.Fatalf("no sample value for type %s of --%s", f.typ, f.name)
				}
			}
			forms = [][]string{{"--" + f.name + "=" + v}, {"--" + f.name, v}}
			if f.shorthand != "-" {
				forms = append(forms, []string{"-" + f.shorthand, v}, []string{"-" + f.shorthand + "=" + v})
			}
		}
		for _, args := range forms {
			_, fs, err := parse(t, append(append([]string{}, base...), args...)...)
			if err != nil {
				t.Errorf("%v: %v", args, err)
				continue
			}
			if fl := fs.Lookup(f.name); fl == nil || !fl.Changed {
				t.Errorf("%v: the flag was not set", args)
			}
		}
	}
}

// TestIgnoredFlagsNamedOnce: every flag without effect that was given is
// named once, however often it was given, and nothing else is named.
func TestIgnoredFlagsNamedOnce(t *testing.T) {
	o, fs, err := parse(t, "--cluster-name=member1", "--karmada-kubeconfig=k",
		"--feature-gates=A=true", "--feature-gates=B=false", "--logtostderr", "--alsologtostderr=false", "--vmodule=x=2",
		"--enable-cluster-resource-modeling", "--controllers=*,serviceExport,certRotation", "--kube-api-qps=40",
		"--logging-format=text", "-v", "2")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(o.IgnoredSet(fs), " ")
	want := "--alsologtostderr --enable-cluster-resource-modeling --feature-gates --logtostderr --vmodule"
	if got != want {
		t.Errorf("IgnoredSet = %q, want %q", got, want)
	}
	if o.LogFormat != "console" || o.Verbosity != 2 || o.KubeAPIQPS != 40 {
		t.Errorf("--logging-format=text -v 2 --kube-api-qps=40 gave log format %q, verbosity %d, QPS %v", o.LogFormat, o.Verbosity, o.KubeAPIQPS)
	}
	if _, _, err := parse(t, "--cluster-name=m1", "--karmada-kubeconfig=k", "--logging-format=xml"); err == nil || !strings.Contains(err.Error(), "text or json") {
		t.Errorf("--logging-format=xml: got %v", err)
	}
}

// TestHubKubeconfigStore: as karmada-agent, the hub kubeconfig comes from
// --karmada-kubeconfig and renewals go to the Secret in
// --karmada-kubeconfig-namespace; without the file, the Secret is read.
func TestHubKubeconfigStore(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--karmada-kubeconfig=/etc/kubeconfig/karmada-kubeconfig"},
			"file /etc/kubeconfig/karmada-kubeconfig (renewals written to Secret karmada-system/karmada-kubeconfig key karmada-kubeconfig)"},
		{[]string{"--karmada-kubeconfig=/k", "--karmada-kubeconfig-namespace=agents"},
			"file /k (renewals written to Secret agents/karmada-kubeconfig key karmada-kubeconfig)"},
		{[]string{"--karmada-kubeconfig=/k", "--karmada-kubeconfig-namespace="}, "file /k"},
		{[]string{"--karmada-kubeconfig-namespace=agents"}, "Secret agents/karmada-kubeconfig key karmada-kubeconfig"},
	} {
		o, _, err := parse(t, append([]string{"--cluster-name=m1"}, tc.args...)...)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.hubKubeconfigStore(fake.NewClientset()).String(); got != tc.want {
			t.Errorf("%v: store %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestDriftModeFlag: the cluster-wide drift mode defaults to correct and
// takes report.
func TestDriftModeFlag(t *testing.T) {
	o, _, err := parse(t, "--cluster-name=m1", "--karmada-kubeconfig=k")
	if err != nil || o.DriftMode != "correct" {
		t.Fatalf("default --drift-mode: %q, %v; want correct", o.DriftMode, err)
	}
	o, _, err = parse(t, "--cluster-name=m1", "--karmada-kubeconfig=k", "--drift-mode=report")
	if err != nil || o.DriftMode != "report" {
		t.Fatalf("--drift-mode=report: %q, %v", o.DriftMode, err)
	}
}
