package smoke

import (
	"context"
	"testing"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"

	"github.com/tether-io/tether/test/testenv"
)

// TestBootstrapTokenSignsClusterInfo creates a bootstrap token on the hub and
// checks that an anonymous client can read kube-public/cluster-info, that the
// hub's bootstrapsigner signed it for that token, that the signature verifies
// with k8s.io/cluster-bootstrap (as kubeadm join checks it), and that the
// anonymous client can read nothing else.
func TestBootstrapTokenSignsClusterInfo(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	const id, secret = "smoke1", "0123456789abcdef"
	token := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: bootstrapapi.BootstrapTokenSecretPrefix + id, Namespace: metav1.NamespaceSystem},
		Type:       bootstrapapi.SecretTypeBootstrapToken,
		StringData: map[string]string{
			bootstrapapi.BootstrapTokenIDKey:               id,
			bootstrapapi.BootstrapTokenSecretKey:           secret,
			bootstrapapi.BootstrapTokenUsageSigningKey:     "true",
			bootstrapapi.BootstrapTokenUsageAuthentication: "true",
			bootstrapapi.BootstrapTokenExpirationKey:       time.Now().Add(time.Hour).UTC().Format(time.RFC3339),
		},
	}
	if _, err := admin.CoreV1().Secrets(metav1.NamespaceSystem).Create(ctx, token, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	anon := kubernetes.NewForConfigOrDie(env.Hub.Anonymous())
	var cm *corev1.ConfigMap
	err := wait.PollUntilContextCancel(ctx, 100*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		var err error
		cm, err = anon.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		_, signed := cm.Data[bootstrapapi.JWSSignatureKeyPrefix+id]
		return signed, nil
	})
	if err != nil {
		t.Fatalf("cluster-info was not signed for token %s: %v", id, err)
	}
	kubeconfig := cm.Data[bootstrapapi.KubeConfigKey]
	sig := cm.Data[bootstrapapi.JWSSignatureKeyPrefix+id]
	if !jws.DetachedTokenIsValid(sig, kubeconfig, id, secret) {
		t.Fatal("the JWS signature does not verify for the token")
	}
	if jws.DetachedTokenIsValid(sig, kubeconfig, id, "ffffffffffffffff") {
		t.Fatal("the JWS signature verifies for a wrong token secret")
	}
	if _, err := anon.CoreV1().ConfigMaps(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("anonymous list of kube-system configmaps: want Forbidden, got %v", err)
	}
}

// TestIdentityIsSubjectToRBAC mints a client certificate for a user and
// checks the hub authenticates it as that user and enforces RBAC on it.
func TestIdentityIsSubjectToRBAC(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	cfg, err := env.Hub.Identity("system:karmada:agent:nobody", "system:karmada:agents")
	if err != nil {
		t.Fatal(err)
	}
	cs := kubernetes.NewForConfigOrDie(cfg)
	review, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := review.Status.UserInfo.Username; got != "system:karmada:agent:nobody" {
		t.Errorf("authenticated as %q", got)
	}
	if _, err := cs.CoreV1().Secrets(metav1.NamespaceSystem).List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Fatalf("list kube-system secrets as an unprivileged identity: want Forbidden, got %v", err)
	}
}
