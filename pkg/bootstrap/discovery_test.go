package bootstrap_test

import (
	"context"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"

	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/test/testenv"
)

func TestDiscoverPinnedHub(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	endpoint, pin := hubEndpoint(t, env)
	token := newToken(t, ctx, admin, hub.TokenOptions{TTL: time.Hour})

	info, err := bootstrap.Discover(ctx, bootstrap.Discovery{Endpoint: endpoint, Token: token, CACertHashes: []string{pin}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Server != env.Hub.URL {
		t.Errorf("server %s, want %s", info.Server, env.Hub.URL)
	}
	// The bootstrap client authenticates with the token.
	boot := kubernetes.NewForConfigOrDie(info.BootstrapConfig(token))
	review, err := boot.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnSelfReview, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(token, ".")
	if got := review.Status.UserInfo.Username; got != bootstrapapi.BootstrapUserPrefix+id {
		t.Errorf("the bootstrap client authenticates as %q", got)
	}
	if !contains(review.Status.UserInfo.Groups, hub.DefaultTokenGroup) {
		t.Errorf("the token's groups %v lack %s", review.Status.UserInfo.Groups, hub.DefaultTokenGroup)
	}

	// Without a pin, with the unsafe flag, discovery still works.
	if _, err := bootstrap.Discover(ctx, bootstrap.Discovery{Endpoint: endpoint, Token: token, UnsafeSkipCAVerification: true}); err != nil {
		t.Fatalf("unsafe skip: %v", err)
	}
	// Without a pin and without the flag, it is refused before any request.
	err = (&bootstrap.Discovery{Endpoint: endpoint, Token: token}).Validate()
	if err == nil || !strings.Contains(err.Error(), "--discovery-token-ca-cert-hash is required") {
		t.Fatalf("missing pin: %v", err)
	}
}

// TestDiscoverRefusesWrongCAHashBeforeSendingCredentials runs discovery
// through a recording proxy: with a wrong pin it fails, and no request
// carried a credential.
func TestDiscoverRefusesWrongCAHashBeforeSendingCredentials(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	token := newToken(t, ctx, admin, hub.TokenOptions{TTL: time.Hour})
	proxy := newRecordingProxy(t, env.Hub.URL)
	wrong := "sha256:" + strings.Repeat("ab", 32)

	_, err := bootstrap.Discover(ctx, bootstrap.Discovery{Endpoint: proxy.endpoint(), Token: token, CACertHashes: []string{wrong}})
	if err == nil || !strings.Contains(err.Error(), "matches --discovery-token-ca-cert-hash") {
		t.Fatalf("want a CA hash mismatch, got %v", err)
	}
	requests, creds := proxy.seen()
	if requests == 0 {
		t.Fatal("discovery sent no request through the proxy")
	}
	if len(creds) > 0 {
		t.Fatalf("credentials were sent before the CA was trusted: %v", creds)
	}
	if strings.Contains(err.Error(), strings.SplitN(token, ".", 2)[1]) {
		t.Fatal("the error message contains the token secret")
	}

	// The right pin through the same proxy: the signed content and CA are
	// the hub's, but the proxy does not hold the CA's certificate, so the
	// verified second read fails.
	_, pin := hubEndpoint(t, env)
	_, err = bootstrap.Discover(ctx, bootstrap.Discovery{Endpoint: proxy.endpoint(), Token: token, CACertHashes: []string{pin}})
	if err == nil || !strings.Contains(err.Error(), "TLS verified") {
		t.Fatalf("a server without the pinned CA's certificate must be refused, got %v", err)
	}
	if _, creds := proxy.seen(); len(creds) > 0 {
		t.Fatalf("credentials were sent to the impostor: %v", creds)
	}
}

func TestDiscoverTokenErrors(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	endpoint, pin := hubEndpoint(t, env)
	token := newToken(t, ctx, admin, hub.TokenOptions{TTL: time.Hour})
	id, _, _ := strings.Cut(token, ".")
	short := func(tok string) error {
		_, err := bootstrap.Discover(ctx, bootstrap.Discovery{Endpoint: endpoint, Token: tok, CACertHashes: []string{pin},
			Timeout: 3 * time.Second, RetryInterval: 500 * time.Millisecond})
		return err
	}

	t.Run("wrong secret", func(t *testing.T) {
		// A long timeout: a wrong secret must fail at once, not wait for it.
		start := time.Now()
		_, err := bootstrap.Discover(ctx, bootstrap.Discovery{Endpoint: endpoint, Token: id + ".ffffffffffffffff", CACertHashes: []string{pin}, Timeout: time.Minute})
		if err == nil || !strings.Contains(err.Error(), "not with this token's secret") {
			t.Fatalf("got %v", err)
		}
		if took := time.Since(start); took > 30*time.Second {
			t.Errorf("a wrong secret must fail at once, took %s", took)
		}
	})
	t.Run("unknown token", func(t *testing.T) {
		err := short("zzzzzz.0123456789abcdef")
		if err == nil || !strings.Contains(err.Error(), `no signature for token ID "zzzzzz"`) || !strings.Contains(err.Error(), "expired") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("expired token", func(t *testing.T) {
		const expID = "exp123"
		s := &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Name: bootstrapapi.BootstrapTokenSecretPrefix + expID, Namespace: metav1.NamespaceSystem},
			Type:       bootstrapapi.SecretTypeBootstrapToken,
			StringData: map[string]string{
				bootstrapapi.BootstrapTokenIDKey: expID, bootstrapapi.BootstrapTokenSecretKey: "0123456789abcdef",
				bootstrapapi.BootstrapTokenUsageSigningKey: "true", bootstrapapi.BootstrapTokenUsageAuthentication: "true",
				bootstrapapi.BootstrapTokenExpirationKey: time.Now().Add(-time.Minute).UTC().Format(time.RFC3339),
			},
		}
		if _, err := admin.CoreV1().Secrets(metav1.NamespaceSystem).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		err := short(expID + ".0123456789abcdef")
		if err == nil || !strings.Contains(err.Error(), "no signature for token ID") || !strings.Contains(err.Error(), "token create") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("token not allowed for signing", func(t *testing.T) {
		authOnly := newToken(t, ctx, admin, hub.TokenOptions{TTL: time.Hour, Usages: []string{"authentication"}})
		err := short(authOnly)
		if err == nil || !strings.Contains(err.Error(), "no signature for token ID") || !strings.Contains(err.Error(), "not allowed for signing") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("malformed token", func(t *testing.T) {
		err := short("not-a-token")
		if err == nil || !strings.Contains(err.Error(), "--token must be a bootstrap token") || strings.Contains(err.Error(), "not-a-token") {
			t.Fatalf("got %v", err)
		}
	})
}
