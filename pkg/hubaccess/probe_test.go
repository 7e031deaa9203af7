package hubaccess_test

import (
	"context"
	"net/http"
	"path"
	"slices"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/test/karmadafixture"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{HubOnly: true}) }

// probe asks the hub as the agent of cluster until the answer is want (the
// hub's RBAC cache picks a new grant up within moments).
func probe(t *testing.T, cluster string, want []hubaccess.Permission) hubaccess.Set {
	t.Helper()
	env := testenv.Require(t)
	cfg, err := env.Hub.Identity(clusterv1alpha1.AgentUser(cluster), clusterv1alpha1.AgentGroup)
	if err != nil {
		t.Fatal(err)
	}
	reviews := kubernetes.NewForConfigOrDie(cfg).AuthorizationV1()
	var got hubaccess.Set
	testenv.Eventually(t, 30*time.Second, "the probe answers the granted permissions", func() (bool, error) {
		got, err = hubaccess.Probe(context.Background(), reviews, cluster)
		return err == nil && slices.Equal(got.Denied(), want), err
	})
	return got
}

// TestProbeKarmadaGrant grants the rules a Karmada control plane gives its
// agent (recorded in test/karmadafixture) and expects exactly Patch of
// Works, Patch and Update of the Cluster, Patch of its status, the policy
// reads and the Lease's delete (unregister with the agent's identity) to be
// denied.
func TestProbeKarmadaGrant(t *testing.T) {
	const cluster = "probe-karmada"
	env := testenv.Require(t)
	user := clusterv1alpha1.AgentUser(cluster)
	if err := testenv.GrantRules(context.Background(), env.Hub.Config, user, karmadafixture.HubRules(t, cluster)); err != nil {
		t.Fatal(err)
	}
	s := probe(t, cluster, []hubaccess.Permission{hubaccess.ClusterUpdate, hubaccess.ClusterPatch, hubaccess.ClusterStatusPatch, hubaccess.WorkPatch,
		hubaccess.OverridePolicyList, hubaccess.OverridePolicyWatch, hubaccess.ClusterOverridePolicyList, hubaccess.ClusterOverridePolicyWatch,
		hubaccess.LeaseDelete})
	if !s.Can(hubaccess.ReportCredentials) || !s.Can(hubaccess.ReportImpersonator) {
		t.Error("Karmada's grant does not let the agent report member credentials, as karmada-agent does")
	}
	if !s.Can(hubaccess.ReportEndpointSlices) {
		t.Error("Karmada's grant does not let the agent report EndpointSlices, as karmada-agent does")
	}
	if !s.Can(hubaccess.WorkFinalizer) || !s.Can(hubaccess.WriteClusterStatus) || s.CanReadPolicies() {
		t.Fatalf("fallbacks: finalizer %v, cluster status %v, policies %v", s.Can(hubaccess.WorkFinalizer), s.Can(hubaccess.WriteClusterStatus), s.CanReadPolicies())
	}
}

// TestProbeTetherGrant: the RBAC 'tether-agent register' grants holds
// every permission the agent uses, each task by its preferred alternative.
func TestProbeTetherGrant(t *testing.T) {
	const cluster = "probe-tether"
	env := testenv.Require(t)
	if err := env.Hub.GrantAgent(context.Background(), cluster); err != nil {
		t.Fatal(err)
	}
	s := probe(t, cluster, nil)
	r := hubaccess.Assess(cluster, s, hubaccess.Needs{Works: true, ClusterStatus: true, Rotation: true, RenderAlways: true, EndpointSlices: true,
		Credentials: true, Impersonator: true}.Tasks())
	if len(r.Missing) != 0 || len(r.Fallbacks) != 0 {
		t.Fatalf("Tether's own grant: missing %+v, fallbacks %+v", r.Missing, r.Fallbacks)
	}
}

// TestProbeNothingGranted: an identity with no grant at all is denied
// everything, and the probe itself still works (SelfSubjectAccessReviews
// are open to every authenticated user).
func TestProbeNothingGranted(t *testing.T) {
	probe(t, "probe-nobody", hubaccess.Permissions())
}

// TestProbeAsksPerNamespace: the probe of Tether's grant costs one rules
// review per namespace the agent works in (its execution namespace, the
// Lease's and Secrets' karmada-cluster, default for the Cluster's Events)
// and one access review per cluster-scoped permission, not one access
// review per permission (38), counted by a transport in front of the hub.
func TestProbeAsksPerNamespace(t *testing.T) {
	const cluster = "probe-cost"
	env := testenv.Require(t)
	if err := env.Hub.GrantAgent(context.Background(), cluster); err != nil {
		t.Fatal(err)
	}
	probe(t, cluster, nil) // until the grant is seen
	cfg, err := env.Hub.Identity(clusterv1alpha1.AgentUser(cluster), clusterv1alpha1.AgentGroup)
	if err != nil {
		t.Fatal(err)
	}
	counts := &requestCounter{byPath: map[string]int{}}
	cfg.Wrap(counts.wrap)
	s, err := hubaccess.Probe(context.Background(), kubernetes.NewForConfigOrDie(cfg).AuthorizationV1(), cluster)
	if err != nil || len(s.Denied()) != 0 {
		t.Fatalf("probe: denied %v, err %v", s.Denied(), err)
	}
	rules, access := counts.get("selfsubjectrulesreviews"), counts.get("selfsubjectaccessreviews")
	t.Logf("MEASURE hub permission probe: %d rules reviews, %d access reviews (was 38 access reviews)", rules, access)
	if rules != 3 {
		t.Errorf("%d rules reviews, want 3 (one per namespace)", rules)
	}
	if total := rules + access; total > 21 {
		t.Errorf("the probe made %d reviews, want at most 21", total)
	}
}

type requestCounter struct {
	mu     sync.Mutex
	byPath map[string]int
}

func (c *requestCounter) wrap(rt http.RoundTripper) http.RoundTripper {
	return roundTripperFunc(func(req *http.Request) (*http.Response, error) {
		c.mu.Lock()
		c.byPath[path.Base(req.URL.Path)]++
		c.mu.Unlock()
		return rt.RoundTrip(req)
	})
}

func (c *requestCounter) get(resource string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.byPath[resource]
}

type roundTripperFunc func(*http.Request) (*http.Response, error)

func (f roundTripperFunc) RoundTrip(req *http.Request) (*http.Response, error) { return f(req) }
