package register_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/klog/v2"

	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
	"github.com/tether-io/tether/test/testenv"
)

// The hub of this package is prepared by 'hub init' and runs Tether's
// approver; test/e2e/register covers a hub configured like Karmada's.
func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1}) }

// testMaxLifetime is the approver's certificate lifetime cap here: shorter
// than the hub's signing duration (one year), so that the cap is what
// limits a certificate.
const testMaxLifetime = 24 * time.Hour

var (
	prepareOnce sync.Once
	prepareErr  error
)

// tetherHub runs hub init once (after deleting the harness's cluster-info
// so that init creates it) and starts Tether's approver for the rest of
// the test binary.
func tetherHub(t *testing.T) *testenv.Env {
	t.Helper()
	env := testenv.Require(t)
	prepareOnce.Do(func() {
		ctx := context.Background()
		admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
		err := admin.CoreV1().ConfigMaps(metav1.NamespacePublic).Delete(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			prepareErr = err
			return
		}
		created, err := hub.Init(ctx, env.Hub.Config, hub.InitConfig{Server: env.Hub.URL, CAData: hubCA(t, env)})
		if err != nil || !created {
			prepareErr = err
			if err == nil {
				prepareErr = errString("hub init did not create cluster-info")
			}
			return
		}
		objs, err := objects.NewClient(env.Hub.Config)
		if err != nil {
			prepareErr = err
			return
		}
		approver := hub.NewApprover(admin, versioned.NewForConfigOrDie(env.Hub.Config), objs, hub.ClusterAccess{},
			hub.WithMaxCertificateLifetime(testMaxLifetime))
		go func() { _ = approver.Run(klog.NewContext(context.Background(), klog.Background())) }()
	})
	if prepareErr != nil {
		t.Fatalf("prepare the hub: %v", prepareErr)
	}
	return env
}

type errString string

func (e errString) Error() string { return string(e) }

func hubCA(t *testing.T, env *testenv.Env) []byte {
	t.Helper()
	ca, err := os.ReadFile(filepath.Join(env.Hub.PKIDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

func hubPin(t *testing.T, env *testenv.Env) string {
	t.Helper()
	certs, err := certutil.ParseCertsPEM(hubCA(t, env))
	if err != nil {
		t.Fatal(err)
	}
	return bootstrap.CACertHash(certs[0])
}

func hubEndpoint(env *testenv.Env) string { return strings.TrimPrefix(env.Hub.URL, "https://") }

// newToken creates a token and waits until cluster-info is signed for it.
func newToken(t *testing.T, ctx context.Context, env *testenv.Env, o hub.TokenOptions) string {
	t.Helper()
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	token, err := hub.CreateToken(ctx, admin, o)
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(token, ".")
	if err := hub.WaitSigned(ctx, admin, id, time.Minute); err != nil {
		t.Fatal(err)
	}
	return token
}
