package bootstrap

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	certutil "k8s.io/client-go/util/cert"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	"k8s.io/cluster-bootstrap/token/jws"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	"k8s.io/klog/v2"
)

// Discovery says how to find and trust a hub with a bootstrap token.
type Discovery struct {
	// Endpoint is the hub apiserver's host:port. Every connection to the hub
	// goes to https://<Endpoint>; the server named in cluster-info is ignored,
	// as karmadactl does.
	Endpoint string
	// Token is the bootstrap token "<id>.<secret>".
	Token string
	// CACertHashes are the accepted CA pins ("sha256:<hex>"); one must match.
	CACertHashes []string
	// UnsafeSkipCAVerification trusts whatever CA cluster-info names, as long
	// as the token signed it. Anyone who can answer on Endpoint and knows the
	// token can then impersonate the hub.
	UnsafeSkipCAVerification bool
	// Timeout bounds the wait for cluster-info to be signed for the token
	// (default DefaultTimeout).
	Timeout time.Duration
	// RetryInterval is the time between reads of cluster-info (default 5s).
	RetryInterval time.Duration
}

// ClusterInfo is the hub as discovery established it.
type ClusterInfo struct {
	// Server is https://<Endpoint>.
	Server string
	// CAData is the PEM bundle of the hub's CA, verified against a pin unless
	// verification was skipped.
	CAData []byte
}

// Validate checks the fields without contacting the hub. Errors name the
// register flag the field comes from.
func (d *Discovery) Validate() error {
	var errs []error
	if _, err := ServerURL(d.Endpoint); err != nil {
		errs = append(errs, err)
	}
	if !bootstraputil.IsValidBootstrapToken(d.Token) {
		errs = append(errs, errors.New("--token must be a bootstrap token of the form [a-z0-9]{6}.[a-z0-9]{16}, as 'tether-agent token create' prints it"))
	}
	if len(d.CACertHashes) == 0 && !d.UnsafeSkipCAVerification {
		errs = append(errs, errors.New("--discovery-token-ca-cert-hash is required (it pins the hub's CA); pass --discovery-token-unsafe-skip-ca-verification only if you accept trusting any server that knows the token"))
	}
	if _, err := NewPinSet(d.CACertHashes); err != nil {
		errs = append(errs, fmt.Errorf("--discovery-token-ca-cert-hash: %w", err))
	}
	return errors.Join(errs...)
}

// ServerURL turns a host:port (an https:// prefix is tolerated) into the
// hub's URL.
func ServerURL(endpoint string) (string, error) {
	hostport := strings.TrimPrefix(endpoint, "https://")
	if _, port, err := net.SplitHostPort(hostport); err != nil || port == "" || strings.ContainsAny(hostport, "/?#") {
		return "", fmt.Errorf("hub endpoint %q must be host:port, e.g. 10.0.0.58:6443", endpoint)
	}
	return "https://" + hostport, nil
}

// Discover reads kube-public/cluster-info from the hub anonymously, checks
// the token's JWS signature over its kubeconfig, checks the CA against the
// pins and reads cluster-info again with TLS verified against that CA. No
// credential is sent before the CA is trusted: the first read is anonymous
// and the token's secret never leaves this process.
func Discover(ctx context.Context, d Discovery) (*ClusterInfo, error) {
	if err := d.Validate(); err != nil {
		return nil, err
	}
	if d.Timeout <= 0 {
		d.Timeout = DefaultTimeout
	}
	if d.RetryInterval <= 0 {
		d.RetryInterval = 5 * time.Second
	}
	server, _ := ServerURL(d.Endpoint)
	tokenID, tokenSecret, _ := strings.Cut(d.Token, ".")
	logger := klog.FromContext(ctx).WithValues("hub", server, "tokenID", tokenID)

	insecure := &rest.Config{Host: server, TLSClientConfig: rest.TLSClientConfig{Insecure: true}, Timeout: 10 * time.Second}
	kubeconfig, err := fetchSigned(ctx, insecure, d, tokenID, tokenSecret)
	if err != nil {
		return nil, err
	}
	caData, certs, err := parseClusterInfo(kubeconfig)
	if err != nil {
		return nil, err
	}
	if d.UnsafeSkipCAVerification {
		logger.Info("WARNING: --discovery-token-unsafe-skip-ca-verification is set: the hub's CA is NOT pinned. " +
			"Anyone who can answer on this endpoint and knows the token can impersonate the hub and receive this cluster's workloads. " +
			"Pass --discovery-token-ca-cert-hash instead.")
	} else {
		pins, _ := NewPinSet(d.CACertHashes)
		if err := pins.Check(certs); err != nil {
			return nil, err
		}
	}
	// Read again over verified TLS: the server must hold the pinned CA's
	// certificate and serve the same cluster-info.
	verified := &rest.Config{Host: server, TLSClientConfig: rest.TLSClientConfig{CAData: caData}, Timeout: 10 * time.Second}
	cm, err := getClusterInfo(ctx, verified)
	if err != nil {
		return nil, fmt.Errorf("read cluster-info from %s with TLS verified against its CA: %w", server, err)
	}
	if !bytes.Equal([]byte(cm.Data[bootstrapapi.KubeConfigKey]), []byte(kubeconfig)) {
		return nil, fmt.Errorf("cluster-info read from %s over verified TLS differs from the signed one: refusing to trust this hub", server)
	}
	logger.V(1).Info("Discovered the hub", "caCertificates", len(certs))
	return &ClusterInfo{Server: server, CAData: caData}, nil
}

// fetchSigned polls cluster-info until it carries a signature for the token
// and returns the signed kubeconfig. A signature that does not verify is
// final; a missing one is waited for (the hub's bootstrapsigner signs a new
// token within seconds).
func fetchSigned(ctx context.Context, cfg *rest.Config, d Discovery, tokenID, tokenSecret string) (string, error) {
	logger := klog.FromContext(ctx)
	var lastErr error
	var kubeconfig string
	waiting := 0
	err := wait.PollUntilContextTimeout(ctx, d.RetryInterval, d.Timeout, true, func(ctx context.Context) (bool, error) {
		cm, err := getClusterInfo(ctx, cfg)
		if err != nil {
			if deadline, ok := ctx.Deadline(); ctx.Err() != nil || (ok && !time.Now().Before(deadline)) {
				return false, nil // the wait is over; keep the reason found so far
			}
			lastErr = fmt.Errorf("cannot read kube-public/cluster-info from %s: %w", cfg.Host, err)
			logger.Info("Waiting for the hub's cluster-info", "err", err)
			return false, nil
		}
		content, ok := cm.Data[bootstrapapi.KubeConfigKey]
		if !ok {
			lastErr = fmt.Errorf("kube-public/cluster-info on %s has no %q key: the hub is not prepared for bootstrap tokens (run 'tether-agent hub init' on it)", cfg.Host, bootstrapapi.KubeConfigKey)
			return false, nil
		}
		sig, ok := cm.Data[bootstrapapi.JWSSignatureKeyPrefix+tokenID]
		if !ok {
			lastErr = fmt.Errorf("kube-public/cluster-info on %s has no signature for token ID %q: the token does not exist on the hub, has expired, "+
				"or is not allowed for signing; or the hub's kube-controller-manager does not run the bootstrapsigner controller. "+
				"Create a token on the hub with 'tether-agent token create --print-register-command'", cfg.Host, tokenID)
			if waiting++; waiting == 1 {
				logger.Info("Waiting for cluster-info to be signed for the token")
			}
			return false, nil
		}
		if !jws.DetachedTokenIsValid(sig, content, tokenID, tokenSecret) {
			return false, fmt.Errorf("kube-public/cluster-info on %s is signed for token ID %q, but not with this token's secret: the token is wrong (check --token)", cfg.Host, tokenID)
		}
		kubeconfig = content
		return true, nil
	})
	if err != nil {
		if wait.Interrupted(err) && lastErr != nil {
			return "", fmt.Errorf("gave up after %s: %w", d.Timeout, lastErr)
		}
		return "", err
	}
	return kubeconfig, nil
}

func getClusterInfo(ctx context.Context, cfg *rest.Config) (*corev1.ConfigMap, error) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return cs.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
}

// parseClusterInfo returns the CA bundle of the only cluster in the signed
// kubeconfig.
func parseClusterInfo(kubeconfig string) ([]byte, []*x509.Certificate, error) {
	cfg, err := clientcmd.Load([]byte(kubeconfig))
	if err != nil {
		return nil, nil, fmt.Errorf("parse the kubeconfig in cluster-info: %w", err)
	}
	if len(cfg.Clusters) != 1 {
		return nil, nil, fmt.Errorf("the kubeconfig in cluster-info must name exactly one cluster, it names %d", len(cfg.Clusters))
	}
	for _, c := range cfg.Clusters {
		certs, err := certutil.ParseCertsPEM(c.CertificateAuthorityData)
		if err != nil {
			return nil, nil, fmt.Errorf("parse the CA in cluster-info: %w", err)
		}
		return c.CertificateAuthorityData, certs, nil
	}
	return nil, nil, errors.New("unreachable")
}
