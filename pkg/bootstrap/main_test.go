package bootstrap_test

import (
	"context"
	"crypto/tls"
	authnv1 "k8s.io/api/authentication/v1"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"

	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{HubOnly: true}) }

// hubEndpoint is the hub's host:port and the pin of its CA.
func hubEndpoint(t *testing.T, env *testenv.Env) (string, string) {
	t.Helper()
	caPEM, err := os.ReadFile(filepath.Join(env.Hub.PKIDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	certs, err := certutil.ParseCertsPEM(caPEM)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(env.Hub.URL, "https://"), bootstrap.CACertHash(certs[0])
}

// newToken creates a bootstrap token on the hub and waits until the hub's
// bootstrapsigner has signed cluster-info for it.
func newToken(t *testing.T, ctx context.Context, cs kubernetes.Interface, o hub.TokenOptions) string {
	t.Helper()
	token, err := hub.CreateToken(ctx, cs, o)
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(token, ".")
	if len(o.Usages) == 0 || contains(o.Usages, "signing") {
		waitSigned(t, ctx, cs, id)
	}
	return token
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func waitSigned(t *testing.T, ctx context.Context, cs kubernetes.Interface, id string) {
	t.Helper()
	if err := hub.WaitSigned(ctx, cs, id, time.Minute); err != nil {
		t.Fatal(err)
	}
}

// recordingProxy is a TLS server with its own certificate that forwards
// to target and records whether any request carried credentials.
type recordingProxy struct {
	*httptest.Server
	mu          sync.Mutex
	requests    int
	credentials []string
}

func newRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // test proxy to the local hub
	p := &recordingProxy{}
	p.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.requests++
		if a := r.Header.Get("Authorization"); a != "" {
			p.credentials = append(p.credentials, "Authorization header")
		}
		if r.TLS != nil && len(r.TLS.PeerCertificates) > 0 {
			p.credentials = append(p.credentials, "client certificate")
		}
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	p.Server.TLS = &tls.Config{ClientAuth: tls.RequestClientCert}
	p.StartTLS()
	t.Cleanup(p.Close)
	return p
}

func (p *recordingProxy) seen() (int, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.requests, append([]string(nil), p.credentials...)
}

func (p *recordingProxy) endpoint() string { return strings.TrimPrefix(p.URL, "https://") }

var authnSelfReview = authnv1.SelfSubjectReview{}
