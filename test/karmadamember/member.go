// Package karmadamember sets up, on the hub and a member of test/testenv, a
// cluster the way karmadactl register and karmada-agent leave it, from the
// recorded objects of test/karmadafixture: the hub's agent RBAC, namespaces,
// Cluster and Work, the member objects karmadactl register writes, and the
// workload as karmada-agent applied it. No karmada-agent runs (kwok runs no
// containers); tests start Tether in its place.
package karmadamember

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// Namespace is the namespace of karmadactl register's objects on the member
// and of karmada-agent's leader Lease on the hub.
const Namespace = "karmada-system"

// Options vary the setup.
type Options struct {
	// Cluster is the cluster's name (default: the member's name).
	Cluster string
	// Endpoint is the Cluster's spec.apiEndpoint (default: the member's URL,
	// what the agent Deployment's command says).
	Endpoint string
	// ClusterRole and Role, if set, edit the fixture's hub ClusterRole and
	// Roles before they are installed (a variation of Karmada's RBAC).
	ClusterRole func(*rbacv1.ClusterRole)
	Role        func(*rbacv1.Role)
	// ClusterStatus writes the Cluster's Ready status as karmada-agent wrote
	// it; without it the Cluster has no status yet.
	ClusterStatus bool
}

// Registered is a cluster as karmadactl register and karmada-agent left it,
// on the environment's first member.
type Registered struct {
	Env *testenv.Env
	// Name is the cluster's name on the hub.
	Name   string
	Member *testenv.Cluster

	MemberClient kubernetes.Interface
	HubClient    kubernetes.Interface
	Karmada      versioned.Interface
	// AgentHub is the agent's hub identity (system:karmada:agent:<Name>).
	AgentHub *rest.Config
	// HubKubeconfig is the agent's hub kubeconfig, as in the member's Secret
	// karmada-kubeconfig; Kubeconfig is the file it is mounted as.
	HubKubeconfig []byte
	Kubeconfig    string

	// Deployment is karmadactl's agent Deployment as the member stored it.
	Deployment *appsv1.Deployment
	// Work is the Work with its finalizer and the status karmada-agent wrote.
	Work *workv1alpha1.Work
}

// SetUp builds the cluster on the hub and env.Members[0]. The certificate in
// the agent's hub kubeconfig is issued by the hub's CA for
// system:karmada:agent:<cluster>. The Cluster, its Works, the workload and
// the agent Deployment are removed when the test ends (after an agent
// started later stopped), so that the next test's Cluster may take the
// member's ID.
func SetUp(t *testing.T, env *testenv.Env, o Options) *Registered {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	m := env.Members[0]
	r := &Registered{Env: env, Name: o.Cluster, Member: m,
		MemberClient: kubernetes.NewForConfigOrDie(m.Config), HubClient: kubernetes.NewForConfigOrDie(env.Hub.Config),
		Karmada: versioned.NewForConfigOrDie(env.Hub.Config)}
	if r.Name == "" {
		r.Name = m.Name
	}
	if o.Endpoint == "" {
		o.Endpoint = m.URL
	}
	t.Cleanup(func() { r.remove(t) })
	r.identity(t)
	r.installHub(ctx, t, o)
	r.installMember(ctx, t)
	r.installWorkload(ctx, t)
	return r
}

// identity issues the agent's hub identity and mounts its kubeconfig where
// the Deployment's volume puts it.
func (r *Registered) identity(t *testing.T) {
	t.Helper()
	user := clusterv1alpha1.AgentUser(r.Name)
	path, err := r.Env.Hub.IdentityKubeconfig(user, clusterv1alpha1.AgentGroup)
	if err == nil {
		r.HubKubeconfig, err = os.ReadFile(path)
	}
	if err == nil {
		r.AgentHub, err = r.Env.Hub.Identity(user, clusterv1alpha1.AgentGroup)
	}
	if err != nil {
		t.Fatalf("the agent's hub identity: %v", err)
	}
	r.Kubeconfig = filepath.Join(t.TempDir(), "etc", "kubeconfig", "karmada-kubeconfig")
	if err := os.MkdirAll(filepath.Dir(r.Kubeconfig), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.Kubeconfig, r.HubKubeconfig, 0o600); err != nil {
		t.Fatal(err)
	}
}

// AgentArgs is the agent Deployment's command line after its program
// (/bin/karmada-agent, or 'tether-agent run' after a migration), with only
// what must point at the test environment changed: the mounted hub
// kubeconfig's path and the member kubeconfig (the Deployment runs
// in-cluster). The metrics and probe addresses are left to
// testenv.StartAgent's free loopback ports, so that the test can run beside
// anything.
func (r *Registered) AgentArgs(flags []string, memberKubeconfig string) []string {
	var args []string
	for _, a := range flags {
		name, _, _ := strings.Cut(a, "=")
		switch name {
		case "--karmada-kubeconfig":
			a = name + "=" + r.Kubeconfig
		case "--metrics-bind-address", "--health-probe-bind-address":
			continue
		}
		args = append(args, a)
	}
	return append(args, "--kubeconfig="+memberKubeconfig)
}
