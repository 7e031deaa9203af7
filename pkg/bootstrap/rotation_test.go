package bootstrap_test

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	authnv1 "k8s.io/api/authentication/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/test/testenv"
)

// signAgentCert signs a client certificate for cluster's agent with the
// hub CA, valid from notBefore to notAfter (shorter than any CSR may ask).
func signAgentCert(t *testing.T, env *testenv.Env, cluster string, notBefore, notAfter time.Time) (certPEM, keyPEM []byte) {
	t.Helper()
	read := func(name string) []byte {
		raw, err := os.ReadFile(filepath.Join(env.Hub.PKIDir, name))
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	cas, err := certutil.ParseCertsPEM(read("ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	caKey, err := keyutil.ParsePrivateKeyPEM(read("ca.key"))
	if err != nil {
		t.Fatal(err)
	}
	keyPEM, err = keyutil.MakeEllipticPrivateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	key, err := keyutil.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	subject := bootstrap.AgentSubject(cluster)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: subject.CommonName, Organization: subject.Organization},
		NotBefore: notBefore, NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, cas[0], key.(crypto.Signer).Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), keyPEM
}

// secretStoreWith writes a hub kubeconfig holding certPEM and keyPEM into a
// Secret (on the hub here: any cluster serves as the store), next to
// another key that must survive write-backs.
func secretStoreWith(t *testing.T, ctx context.Context, env *testenv.Env, cluster string, certPEM, keyPEM []byte) *bootstrap.SecretStore {
	t.Helper()
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	caPEM, err := os.ReadFile(filepath.Join(env.Hub.PKIDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	info := &bootstrap.ClusterInfo{Server: env.Hub.URL, CAData: caPEM}
	raw, err := clientcmd.Write(*info.AgentKubeconfig(cluster, certPEM, keyPEM))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: rotationNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: bootstrap.KubeconfigSecretName, Namespace: rotationNamespace},
		Data: map[string][]byte{bootstrap.KubeconfigSecretKey: raw, "other": []byte("kept")}}
	if _, err := admin.CoreV1().Secrets(rotationNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	store := bootstrap.NewSecretStore(admin, rotationNamespace, bootstrap.KubeconfigSecretName, bootstrap.KubeconfigSecretKey)
	return store
}

// rotationNamespace holds the Secret store of the rotation test.
const rotationNamespace = "rotation-test"

// approveSelfRenewals approves, until ctx ends, CSRs whose requester is
// the CN they ask for (Karmada's selfclusteragent recognizer, without the
// SubjectAccessReview).
func approveSelfRenewals(ctx context.Context, cs kubernetes.Interface) {
	_ = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for _, csr := range list.Items {
			if len(csr.Status.Conditions) > 0 {
				continue
			}
			req, err := bootstrap.ParseCSR(&csr)
			if err != nil || req.Subject.CommonName != csr.Spec.Username {
				continue
			}
			csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
				Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "AutoApproved", Message: "test: self renewal"})
			_, _ = cs.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, csr.Name, &csr, metav1.UpdateOptions{})
		}
		return false, nil
	})
}

// TestRotationWithoutRestart starts a rotator with a certificate that has
// 14 % of its 175 s life left. The rotator renews it at once through a CSR,
// writes the new kubeconfig back to the Secret, and the client built before
// the rotation keeps working after the old certificate has expired, while a
// client holding the old certificate is rejected.
func TestRotationWithoutRestart(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	const cluster = "rotating"
	user := clusterv1alpha1.AgentUser(cluster)
	testenv.NoError(t, testenv.GrantRules(ctx, env.Hub.Config, user,
		hubaccess.ByNamespace(hubaccess.PreferredRules(cluster, "", hubaccess.RenewCertificate))))
	go approveSelfRenewals(ctx, admin)

	now := time.Now()
	certPEM, keyPEM := signAgentCert(t, env, cluster, now.Add(-150*time.Second), now.Add(25*time.Second))
	store := secretStoreWith(t, ctx, env, cluster, certPEM, keyPEM)
	reg := prometheus.NewRegistry()
	rot, err := bootstrap.NewRotator(ctx, bootstrap.RotatorConfig{Store: store, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	oldLeaf := rot.Certificate()
	hubCfg, err := rot.ClientConfig()
	if err != nil {
		t.Fatal(err)
	}
	agent := kubernetes.NewForConfigOrDie(hubCfg)
	whoami := func(cs kubernetes.Interface) (string, error) {
		r, err := cs.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authnv1.SelfSubjectReview{}, metav1.CreateOptions{})
		if err != nil {
			return "", err
		}
		return r.Status.UserInfo.Username, nil
	}
	if got, err := whoami(agent); err != nil || got != user {
		t.Fatalf("before rotation: %q, %v", got, err)
	}

	start := time.Now()
	go func() { _ = rot.Run(ctx) }()
	err = wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		return rot.Certificate().SerialNumber.Cmp(oldLeaf.SerialNumber) != 0, nil
	})
	if err != nil {
		t.Fatalf("the certificate was not rotated: %v", err)
	}
	t.Logf("rotated in %s", time.Since(start).Round(10*time.Millisecond))
	newLeaf := rot.Certificate()
	if newLeaf.Subject.CommonName != user || !newLeaf.NotAfter.After(oldLeaf.NotAfter) {
		t.Fatalf("renewed certificate: CN %q, NotAfter %s", newLeaf.Subject.CommonName, newLeaf.NotAfter)
	}
	if got := gaugeValue(t, reg, "tether_agent_hub_client_certificate_expiration_timestamp_seconds"); got != float64(newLeaf.NotAfter.Unix()) {
		t.Errorf("expiry gauge %v, want %d", got, newLeaf.NotAfter.Unix())
	}

	stored := assertWrittenBack(t, ctx, admin, newLeaf)
	// Once the old certificate has expired, the hub rejects it, and the
	// client built before the rotation still works: it uses the new one.
	oldKC, _, err := stored.WithCertificate(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	oldCfg, err := oldKC.RESTConfig()
	if err != nil {
		t.Fatal(err)
	}
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
		return time.Now().After(oldLeaf.NotAfter.Add(time.Second)), nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := whoami(kubernetes.NewForConfigOrDie(oldCfg)); !apierrors.IsUnauthorized(err) {
		t.Fatalf("the expired certificate: want Unauthorized, got %v", err)
	}
	if got, err := whoami(agent); err != nil || got != user {
		t.Fatalf("after the old certificate expired, the rotated client: %q, %v", got, err)
	}
}

// assertWrittenBack checks that the Secret holds the renewed certificate
// and still its other keys, and returns the stored kubeconfig.
func assertWrittenBack(t *testing.T, ctx context.Context, admin kubernetes.Interface, newLeaf *x509.Certificate) *bootstrap.HubKubeconfig {
	t.Helper()
	live, err := admin.CoreV1().Secrets(rotationNamespace).Get(ctx, bootstrap.KubeconfigSecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := bootstrap.ParseHubKubeconfig(live.Data[bootstrap.KubeconfigSecretKey], "")
	if err != nil {
		t.Fatal(err)
	}
	if stored.Certificate().Leaf.SerialNumber.Cmp(newLeaf.SerialNumber) != 0 {
		t.Error("the Secret does not hold the renewed certificate")
	}
	if string(live.Data["other"]) != "kept" {
		t.Error("the write-back dropped another key of the Secret")
	}

	return stored
}

func gaugeValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			var m *dto.Metric = f.GetMetric()[0]
			return m.GetGauge().GetValue()
		}
	}
	t.Fatalf("metric %s is not registered", name)
	return 0
}
