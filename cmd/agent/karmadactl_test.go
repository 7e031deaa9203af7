package main

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/register"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
	"github.com/tether-io/tether/test/testenv"
)

// flagValue parses args for the subcommand at path of a fresh command tree
// and returns the value of flag name (Tether's own name).
func flagValue(t *testing.T, path []string, args []string, name string) string {
	t.Helper()
	cmd, _, err := newRootCommand().Find(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("%s %v: %v", strings.Join(path, " "), args, err)
	}
	f := cmd.Flags().Lookup(name)
	if f == nil {
		t.Fatalf("%s has no flag --%s", strings.Join(path, " "), name)
	}
	return f.Value.String()
}

// TestKarmadactlFlagNames: each karmadactl flag name sets the same option
// as Tether's own name for it.
func TestKarmadactlFlagNames(t *testing.T) {
	for _, tc := range []struct {
		path         []string
		alias, flag  string
		value, wants string
	}{
		{[]string{"unregister"}, "cluster-kubeconfig", "kubeconfig", "m.kubeconfig", "m.kubeconfig"},
		{[]string{"unregister"}, "cluster-context", "context", "member1-admin", "member1-admin"},
		{[]string{"register"}, "karmada-agent-image", "agent-image", "registry.example/tether:v1", "registry.example/tether:v1"},
		{[]string{"register"}, "karmada-agent-replicas", "agent-replicas", "3", "3"},
		{[]string{"token", "create"}, "karmada-context", "context", "karmada-apiserver", "karmada-apiserver"},
		{[]string{"token", "list"}, "karmada-context", "context", "karmada-apiserver", "karmada-apiserver"},
		{[]string{"token", "delete"}, "karmada-context", "context", "karmada-apiserver", "karmada-apiserver"},
	} {
		viaAlias := flagValue(t, tc.path, []string{"--" + tc.alias + "=" + tc.value}, tc.flag)
		viaName := flagValue(t, tc.path, []string{"--" + tc.flag, tc.value}, tc.flag)
		if viaAlias != tc.wants || viaName != tc.wants {
			t.Errorf("%s: --%s gives --%s=%q and --%s gives %q, want both %q",
				strings.Join(tc.path, " "), tc.alias, tc.flag, viaAlias, tc.flag, viaName, tc.wants)
		}
	}
	// karmadactl's flags that Tether spells the same way parse as they are.
	for _, tc := range []struct {
		path []string
		args []string
	}{
		{[]string{"unregister"}, []string{"--karmada-config=h", "--karmada-context=c", "-n", "ns", "--agent-name=a", "--cluster-namespace=cn", "--wait=60s", "--dry-run"}},
		{[]string{"register"}, []string{"--kubeconfig=m", "--context=c", "-n", "ns", "--cluster-namespace=cn", "--enable-cert-rotation",
			"--discovery-token-unsafe-skip-ca-verification", "--discovery-timeout=5m", "--cert-expiration-seconds=31536000", "--dry-run",
			"--proxy-server-address=http://p", "--cluster-provider=aws", "--cluster-region=eu", "--cluster-zones=a,b", "--token=x", "--cluster-name=m1"}},
		{[]string{"token", "create"}, []string{"--ttl=1h", "--usages=signing,authentication", "--groups=system:bootstrappers:karmada:default-cluster-token",
			"--description=d", "--print-register-command", "--kubeconfig=k", "--karmada-context=c"}},
	} {
		cmd, _, err := newRootCommand().Find(tc.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.ParseFlags(tc.args); err != nil {
			t.Errorf("%s %v: %v", strings.Join(tc.path, " "), tc.args, err)
		}
	}
}

// TestUnregisterWithKarmadactlFlags runs karmadactl's command line,
// 'unregister <cluster> --cluster-kubeconfig ... --karmada-config ...',
// against a real hub and member holding what register creates: the dry run
// lists it and deletes nothing, the real run deletes it on both sides.
// elapsedPrefix starts each step line of a long operation.
var elapsedPrefix = regexp.MustCompile(`^\[ *[0-9]+\.[0-9]s\] `)

func TestUnregisterWithKarmadactlFlags(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	const cluster = "kctl-m1"
	member := env.Members[0]
	hubObjs, err := objects.NewClient(env.Hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	memberObjs, err := objects.NewClient(member.Config)
	if err != nil {
		t.Fatal(err)
	}
	access := hub.ClusterAccess{Cluster: cluster}
	if err := hubObjs.Apply(ctx, append(access.SharedNamespaces(), access.Objects()...)...); err != nil {
		t.Fatal(err)
	}
	karmada := versioned.NewForConfigOrDie(env.Hub.Config)
	c := &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: cluster}, Spec: clusterv1alpha1.ClusterSpec{SyncMode: clusterv1alpha1.Pull}}
	if _, err := karmada.ClusterV1alpha1().Clusters().Create(ctx, c, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	agent := register.Agent{Cluster: cluster, Namespace: "karmada-system", ClusterNamespace: clusterv1alpha1.DefaultClusterNamespace,
		LeaderElectNamespace: "karmada-system", APIEndpoint: member.URL, Image: "tether-agent:test", Replicas: 1, CertRotation: true}
	memberSide := append([]runtime.Object{agent.NamespaceObject()}, agent.Objects([]byte("not read"))...)
	if err := memberObjs.Apply(ctx, memberSide...); err != nil {
		t.Fatal(err)
	}

	args := []string{"unregister", cluster, "--cluster-kubeconfig", member.Kubeconfig, "--karmada-config", env.Hub.Kubeconfig}
	out, _, err := runCLI(t, append(args, "--dry-run")...)
	if err != nil {
		t.Fatalf("unregister --dry-run: %v\n%s", err, out)
	}
	for _, want := range []string{"hub: Cluster " + cluster, "hub: ClusterRole system:karmada:" + cluster + ":agent\n",
		"hub: Role karmada-cluster/system:karmada:" + cluster + ":agent-secret", "member: Deployment karmada-system/karmada-agent",
		"member: Secret karmada-system/karmada-kubeconfig"} {
		if !strings.Contains(out, want) {
			t.Errorf("the dry run does not list %q:\n%s", want, out)
		}
	}
	if left, err := memberObjs.Existing(ctx, memberSide...); err != nil || len(left) != len(memberSide) {
		t.Fatalf("the dry run deleted member objects: %d of %d left (%v)", len(left), len(memberSide), err)
	}

	out, _, err = runCLI(t, append(args, "--wait", "90s")...)
	if err != nil {
		t.Fatalf("unregister: %v\n%s", err, out)
	}
	t.Logf("unregister:\n%s", out)
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !elapsedPrefix.MatchString(line) && !strings.HasPrefix(line, "         ") {
			t.Errorf("unregister step %q has no elapsed time", line)
		}
	}
	if _, err := karmada.ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("Cluster %s: want NotFound, got %v", cluster, err)
	}
	if left, err := hubObjs.Existing(ctx, access.Objects()...); err != nil || len(left) > 0 {
		t.Errorf("hub objects left: %s (%v)", objects.Refs(left), err)
	}
	if left, err := memberObjs.Existing(ctx, memberSide...); err != nil || len(left) > 0 {
		t.Errorf("member objects left: %s (%v)", objects.Refs(left), err)
	}
}
