package register_test

import (
	"context"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/register/hub"
)

// requestAs submits an agent-shaped CSR for cn with cfg's identity and
// waits for the approver's decision; it returns the issued certificate's
// kubeconfig rest config or the denial.
func requestAs(t *testing.T, ctx context.Context, cfg *rest.Config, subject pkix.Name) (*rest.Config, error) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(cfg)
	p, err := bootstrap.SubmitCSR(ctx, cs, bootstrap.CertificateRequest{GenerateName: "test-", Subject: subject, ExpirationSeconds: 600})
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
