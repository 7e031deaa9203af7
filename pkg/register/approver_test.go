package register_test

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/register/hub"
)

// requestAs submits an agent-shaped CSR for cn with cfg's identity and
// waits for the approver's decision; it returns the issued certificate's
// kubeconfig rest config or the denial.
func requestAs(t *testing.T, ctx context.Context, cfg *rest.Config, subject pkix.Name) (*rest.Config, error) {
	t.Helper()
	return requestFor(t, ctx, cfg, subject, 600)
}

// requestFor is requestAs asking for a lifetime of secs (0: none).
func requestFor(t *testing.T, ctx context.Context, cfg *rest.Config, subject pkix.Name, secs int32) (*rest.Config, error) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(cfg)
	p, err := bootstrap.SubmitCSR(ctx, cs, bootstrap.CertificateRequest{GenerateName: "test-", Subject: subject, ExpirationSeconds: secs})
	if err != nil {
		return nil, err
	}
	certPEM, err := bootstrap.WaitForCertificate(ctx, cs, p, bootstrap.WaitOptions{Timeout: 30 * time.Second, Interval: 200 * time.Millisecond})
	if err != nil {
		return nil, err
	}
	out := rest.AnonymousClientConfig(cfg)
	out.CertData, out.KeyData = certPEM, p.KeyPEM
	return out, nil
}

func renewalOf(t *testing.T, ctx context.Context, agentCfg *rest.Config, cluster string) error {
	_, err := requestAs(t, ctx, agentCfg, bootstrap.AgentSubject(cluster))
	return err
}

func bootstrapConfig(t *testing.T, ctx context.Context, token string) *rest.Config {
	t.Helper()
	env := tetherHub(t)
	info, err := bootstrap.Discover(ctx, bootstrap.Discovery{Endpoint: hubEndpoint(env), Token: token, CACertHashes: []string{hubPin(t, env)}})
	if err != nil {
		t.Fatal(err)
	}
	return info.BootstrapConfig(token)
}

// TestApproverHardening checks that a bootstrap token obtains neither a
// cluster-admin identity nor another cluster's identity from Tether's
// approver, and that renewals are limited to the agent's own identity.
func TestApproverHardening(t *testing.T) {
	env := tetherHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	tokenA := bootstrapConfig(t, ctx, newToken(t, ctx, env, hub.TokenOptions{TTL: time.Hour}))
	tokenB := bootstrapConfig(t, ctx, newToken(t, ctx, env, hub.TokenOptions{TTL: time.Hour}))
	bound := bootstrapConfig(t, ctx, newToken(t, ctx, env, hub.TokenOptions{TTL: time.Hour, Cluster: "bound1"}))
	denied := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "Denied") || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want a denial mentioning %q, got %v", what, want, err)
		}
	}

	_, err := requestAs(t, ctx, tokenA, bootstrap.AgentSubject(hub.RBACGeneratorCluster))
	denied("rbac-generator identity", err, "reserved")

	agentA, err := requestAs(t, ctx, tokenA, bootstrap.AgentSubject("claimed1"))
	if err != nil {
		t.Fatalf("first registration of claimed1: %v", err)
	}
	assertIdentity(t, ctx, agentA, clusterv1alpha1.AgentUser("claimed1"))
	if _, err := requestAs(t, ctx, tokenA, bootstrap.AgentSubject("claimed1")); err != nil {
		t.Errorf("the same token asking again for its cluster: %v", err)
	}
	_, err = requestAs(t, ctx, tokenB, bootstrap.AgentSubject("claimed1"))
	denied("another token asking for a claimed cluster", err, "already registered")

	_, err = requestAs(t, ctx, bound, bootstrap.AgentSubject("other1"))
	denied("a token bound to bound1 asking for other1", err, "bound to cluster bound1")
	if _, err := requestAs(t, ctx, bound, bootstrap.AgentSubject("bound1")); err != nil {
		t.Errorf("a bound token asking for its cluster: %v", err)
	}

	if err := renewalOf(t, ctx, agentA, "claimed1"); err != nil {
		t.Errorf("renewal of claimed1 by its agent: %v", err)
	}
	_, err = requestAs(t, ctx, agentA, bootstrap.AgentSubject("bound1"))
	denied("an agent asking for another cluster's identity", err, "may not obtain the identity of cluster bound1")

	subject := bootstrap.AgentSubject("odd1")
	subject.Organization = []string{clusterv1alpha1.AgentGroup, "extra-group"}
	_, err = requestAs(t, ctx, tokenA, subject)
	denied("an extra organization", err, "organization must be exactly")
}

// TestTokenScope: a token bound to one cluster obtains no other cluster's
// identity; while a cluster's heartbeat Lease is fresh its identity is not
// re-issued to a bootstrap token, and is once the Lease has expired or is
// deleted, while the agent's own renewals go on; certificates longer than
// the approver's cap are refused and none is issued for longer.
func TestTokenScope(t *testing.T) {
	env := tetherHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	boundA := bootstrapConfig(t, ctx, newToken(t, ctx, env, hub.TokenOptions{TTL: time.Hour, Cluster: "scope-a"}))
	denied := func(what string, err error, want string) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "Denied") || !strings.Contains(err.Error(), want) {
			t.Fatalf("%s: want a denial mentioning %q, got %v", what, want, err)
		}
	}

	_, err := requestAs(t, ctx, boundA, bootstrap.AgentSubject("scope-b"))
	denied("a token bound to scope-a asking for scope-b", err, "bound to cluster scope-a, not scope-b")

	capSecs := int32(testMaxLifetime / time.Second)
	_, err = requestFor(t, ctx, boundA, bootstrap.AgentSubject("scope-a"), capSecs+3600)
	denied("a lifetime above the cap", err, fmt.Sprintf("ask for at most %d seconds", capSecs))
	_, err = requestFor(t, ctx, boundA, bootstrap.AgentSubject("scope-a"), 0)
	denied("no lifetime", err, "sets no spec.expirationSeconds")
	agentA, err := requestFor(t, ctx, boundA, bootstrap.AgentSubject("scope-a"), capSecs)
	if err != nil {
		t.Fatalf("a token bound to scope-a asking for scope-a: %v", err)
	}
	assertLifetimeAtMost(t, agentA, testMaxLifetime)

	// The agent of scope-a runs: its Lease is fresh.
	leases := admin.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace)
	lease := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "scope-a", Namespace: clusterv1alpha1.LeaseNamespace},
		Spec: coordinationv1.LeaseSpec{HolderIdentity: ptr.To("scope-a"), LeaseDurationSeconds: ptr.To(int32(40)), RenewTime: &metav1.MicroTime{Time: time.Now()}}}
	lease, err = leases.Create(ctx, lease, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = requestAs(t, ctx, boundA, bootstrap.AgentSubject("scope-a"))
	denied("a bootstrap re-issue while the Lease is fresh", err, "cluster scope-a's agent is alive")
	if err := renewalOf(t, ctx, agentA, "scope-a"); err != nil {
		t.Errorf("renewal by scope-a's agent while its Lease is fresh: %v", err)
	}

	// The agent stopped renewing 2 minutes ago: the Lease has expired.
	lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now().Add(-2 * time.Minute)}
	if lease, err = leases.Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := requestAs(t, ctx, boundA, bootstrap.AgentSubject("scope-a")); err != nil {
		t.Errorf("a bootstrap re-issue after the Lease expired: %v", err)
	}

	lease.Spec.RenewTime = &metav1.MicroTime{Time: time.Now()}
	if _, err = leases.Update(ctx, lease, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err = requestAs(t, ctx, boundA, bootstrap.AgentSubject("scope-a"))
	denied("a bootstrap re-issue while the Lease is fresh again", err, "alive")
	if err := leases.Delete(ctx, "scope-a", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := requestAs(t, ctx, boundA, bootstrap.AgentSubject("scope-a")); err != nil {
		t.Errorf("a bootstrap re-issue after the Lease was deleted: %v", err)
	}
}

// assertLifetimeAtMost checks that the certificate in cfg expires at most
// max from now (it was issued before now).
func assertLifetimeAtMost(t *testing.T, cfg *rest.Config, max time.Duration) {
	t.Helper()
	certs, err := certutil.ParseCertsPEM(cfg.CertData)
	if err != nil {
		t.Fatal(err)
	}
	if left := time.Until(certs[0].NotAfter); left > max {
		t.Errorf("the certificate is valid for %s more, longer than the approver's cap %s", left.Round(time.Second), max)
	}
}
