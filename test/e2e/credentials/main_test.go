// Package credentials runs the tether-agent binary against the real hub and
// member of test/testenv with --report-secrets, and checks what the control
// plane would get: the Secrets and the Cluster's references on the hub, a
// token that the member apiserver accepts, its rotation, and that nothing
// is reported by default. Writes are counted from the hub's audit log.
package credentials

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1, Audit: true}) }

// ns is the cluster namespace, on the hub and in the member (the default).
const ns = clusterv1alpha1.DefaultClusterNamespace

func hubKarmada(t *testing.T) karmadaclient.Interface {
	return karmadaclient.NewForConfigOrDie(testenv.Require(t).Hub.Config)
}

func hubKube(t *testing.T) kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(testenv.Require(t).Hub.Config)
}

func memberKube(t *testing.T) kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(testenv.Require(t).Members[0].Config)
}

// deleteClusterAtEnd removes the agent's Cluster (and so, through the
// garbage collector, its Secrets) when the test ends.
func deleteClusterAtEnd(t *testing.T, cluster string) {
	t.Cleanup(func() {
		_ = hubKarmada(t).ClusterV1alpha1().Clusters().Delete(context.Background(), cluster, metav1.DeleteOptions{})
	})
}

// asToken is a client of the member apiserver at endpoint that trusts ca
// and authenticates with token only, as the control plane builds one from
// the Secret.
func asToken(t *testing.T, endpoint string, ca, token []byte) kubernetes.Interface {
	t.Helper()
	cfg := &rest.Config{Host: endpoint, BearerToken: string(token), TLSClientConfig: rest.TLSClientConfig{CAData: ca}}
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// whoAmI is the user the member apiserver authenticates cs as.
func whoAmI(ctx context.Context, cs kubernetes.Interface) (string, error) {
	r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return "", err
	}
	return r.Status.UserInfo.Username, nil
}

// secret reads a hub Secret in the cluster namespace.
func secret(ctx context.Context, t *testing.T, name string) (*corev1.Secret, error) {
	return secretIn(ctx, t, ns, name)
}

// secretIn reads the hub Secret namespace/name.
func secretIn(ctx context.Context, t *testing.T, namespace, name string) (*corev1.Secret, error) {
	return hubKube(t).CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
}

// logLines returns the lines of the agent's log that contain s.
func logLines(t *testing.T, a *testenv.AgentProcess, s string) []string {
	t.Helper()
	raw, err := os.ReadFile(a.Log)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		if strings.Contains(line, s) {
			out = append(out, line)
		}
	}
	return out
}

// assertLogHasNoToken fails when the agent's log holds any of the tokens,
// whole or their signature (the part no two tokens share).
func assertLogHasNoToken(t *testing.T, a *testenv.AgentProcess, tokens ...[]byte) {
	t.Helper()
	raw, err := os.ReadFile(a.Log)
	if err != nil {
		t.Fatal(err)
	}
	for i, tok := range tokens {
		parts := strings.Split(string(tok), ".")
		if len(parts) != 3 {
			t.Fatalf("token %d is not a JWT (%d parts)", i, len(parts))
		}
		if strings.Contains(string(raw), parts[2]) {
			t.Errorf("the agent's log %s contains token %d", a.Log, i)
		}
	}
}

func describe(e testenv.AuditEvent) string {
	return fmt.Sprintf("%s %s/%s %s/%s", e.Verb, e.Resource, e.Subresource, e.Namespace, e.Name)
}
