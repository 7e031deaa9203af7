package bootstrap

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
	"k8s.io/klog/v2"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// MinExpirationSeconds is the shortest lifetime a CSR may ask for; the
// apiserver rejects less.
const MinExpirationSeconds = 600

// AgentUsages are the key usages of every agent CSR, as karmadactl register
// asks for them; Karmada's approver accepts exactly this set.
var AgentUsages = []certificatesv1.KeyUsage{
	certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth,
}

// AgentSubject is the certificate subject of cluster's agent.
func AgentSubject(cluster string) pkix.Name {
	return pkix.Name{CommonName: clusterv1alpha1.AgentUser(cluster), Organization: []string{clusterv1alpha1.AgentGroup}}
}

// CertificateRequest describes a client certificate to ask the hub for.
type CertificateRequest struct {
	// GenerateName prefixes the CSR object's name; the apiserver appends 5
	// random characters.
	GenerateName string
	// Subject is the certificate subject.
	Subject pkix.Name
	// ExpirationSeconds is the requested lifetime; 0 leaves it to the signer.
	ExpirationSeconds int32
	// Labels go on the CSR object.
	Labels map[string]string
	// Annotations go on the CSR object.
	Annotations map[string]string
}

// PendingCertificate is a submitted CSR and the private key that stays here.
type PendingCertificate struct {
	Name   string
	UID    string
	KeyPEM []byte
}

// SubmitCSR generates an ECDSA P-256 key and creates a CSR for it with signer
// kubernetes.io/kube-apiserver-client and the agent usages.
func SubmitCSR(ctx context.Context, client kubernetes.Interface, req CertificateRequest) (*PendingCertificate, error) {
	keyPEM, err := keyutil.MakeEllipticPrivateKeyPEM()
	if err != nil {
		return nil, fmt.Errorf("generate a private key: %w", err)
	}
	key, err := keyutil.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return nil, err
	}
	subject := req.Subject
	csrPEM, err := certutil.MakeCSR(key, &subject, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("make a certificate request for %s: %w", req.Subject.CommonName, err)
	}
	obj := &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{GenerateName: req.GenerateName, Labels: req.Labels, Annotations: req.Annotations},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request:    csrPEM,
			SignerName: certificatesv1.KubeAPIServerClientSignerName,
			Usages:     AgentUsages,
		},
	}
	if req.ExpirationSeconds > 0 {
		secs := max(req.ExpirationSeconds, MinExpirationSeconds)
		obj.Spec.ExpirationSeconds = &secs
	}
	created, err := client.CertificatesV1().CertificateSigningRequests().Create(ctx, obj, metav1.CreateOptions{})
	if err != nil {
		return nil, fmt.Errorf("create CertificateSigningRequest for %s: %w", req.Subject.CommonName, err)
	}
	klog.FromContext(ctx).V(1).Info("Created certificate signing request", "csr", created.Name, "subject", req.Subject.CommonName)
	return &PendingCertificate{Name: created.Name, UID: string(created.UID), KeyPEM: keyPEM}, nil
}

// WaitOptions shape WaitForCertificate.
type WaitOptions struct {
	// Timeout bounds the wait (default DefaultTimeout).
	Timeout time.Duration
	// Interval is the time between reads of the CSR (default 500ms).
	Interval time.Duration
	// Pending is called with the CSR when it is still pending after a few
	// seconds, and again every 30 seconds; it tells the user what to approve.
	Pending func(csr *certificatesv1.CertificateSigningRequest)
	// ApproveCommand is the command named in the timeout error (default
	// "kubectl certificate approve <name>").
	ApproveCommand string
}

// DefaultTimeout bounds each wait of a registration or a renewal on the
// hub when none is given: for cluster-info to be signed (kubeadm's
// discovery timeout) and for a CSR to be issued.
const DefaultTimeout = 5 * time.Minute

// pendingGrace lets an automatic approver act before Pending is called.
const pendingGrace = 3 * time.Second

// WaitForCertificate waits until the CSR is approved and issued and returns
// the certificate (PEM). A denied or failed CSR is an error carrying the
// approver's reason and message.
func WaitForCertificate(ctx context.Context, client kubernetes.Interface, p *PendingCertificate, o WaitOptions) ([]byte, error) {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.Interval <= 0 {
		o.Interval = 500 * time.Millisecond
	}
	if o.ApproveCommand == "" {
		o.ApproveCommand = "kubectl certificate approve " + p.Name
	}
	logger := klog.FromContext(ctx).WithValues("csr", p.Name)
	start := time.Now()
	var nextNotice time.Time
	var certPEM []byte
	var last *certificatesv1.CertificateSigningRequest
	err := wait.PollUntilContextTimeout(ctx, o.Interval, o.Timeout, true, func(ctx context.Context) (bool, error) {
		csr, err := client.CertificatesV1().CertificateSigningRequests().Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			logger.Info("Cannot read the certificate signing request yet", "err", err)
			return false, nil
		}
		if string(csr.UID) != p.UID {
			return false, fmt.Errorf("CertificateSigningRequest %s was deleted and recreated by someone else", p.Name)
		}
		last = csr
		if c := finalCondition(csr); c != nil {
			return false, fmt.Errorf("CertificateSigningRequest %s was %s (reason %q): %s", p.Name, c.Type, c.Reason, c.Message)
		}
		if len(csr.Status.Certificate) > 0 {
			certPEM = csr.Status.Certificate
			return true, nil
		}
		if now := time.Now(); now.Sub(start) >= pendingGrace && now.After(nextNotice) {
			nextNotice = now.Add(30 * time.Second)
			if o.Pending != nil {
				o.Pending(csr)
			}
			logger.V(1).Info("Waiting for the certificate signing request to be approved and issued", "approved", isApproved(csr))
		}
		return false, nil
	})
	if err != nil {
		if wait.Interrupted(err) {
			state := "not approved"
			if last != nil && isApproved(last) {
				state = "approved but not issued (is the hub's kube-controller-manager running the csrsigning controller?)"
			}
			return nil, fmt.Errorf("CertificateSigningRequest %s was %s within %s: approve it on the hub with '%s'", p.Name, state, o.Timeout, o.ApproveCommand)
		}
		return nil, err
	}
	if _, err := certutil.ParseCertsPEM(certPEM); err != nil {
		return nil, fmt.Errorf("CertificateSigningRequest %s holds an unreadable certificate: %w", p.Name, err)
	}
	return certPEM, nil
}

func finalCondition(csr *certificatesv1.CertificateSigningRequest) *certificatesv1.CertificateSigningRequestCondition {
	for i, c := range csr.Status.Conditions {
		if (c.Type == certificatesv1.CertificateDenied || c.Type == certificatesv1.CertificateFailed) && c.Status != corev1.ConditionFalse {
			return &csr.Status.Conditions[i]
		}
	}
	return nil
}

func isApproved(csr *certificatesv1.CertificateSigningRequest) bool {
	for _, c := range csr.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved && c.Status != corev1.ConditionFalse {
			return true
		}
	}
	return false
}

// ParseCSR decodes the x509 request of a CSR object.
func ParseCSR(csr *certificatesv1.CertificateSigningRequest) (*x509.CertificateRequest, error) {
	block, _ := pem.Decode(csr.Spec.Request)
	if block == nil || block.Type != "CERTIFICATE REQUEST" {
		return nil, errors.New("spec.request is not a PEM CERTIFICATE REQUEST")
	}
	return x509.ParseCertificateRequest(block.Bytes)
}
