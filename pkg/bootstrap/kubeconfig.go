package bootstrap

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// HubClusterName is the cluster entry of an agent's hub kubeconfig, as
// karmadactl register writes it.
const HubClusterName = "karmada-apiserver"

// AgentContext is the context of the agent of cluster in its hub kubeconfig.
func AgentContext(cluster string) string { return cluster + "@" + HubClusterName }

// BootstrapConfig is a client of the hub that authenticates with the
// bootstrap token and trusts the discovered CA.
func (c *ClusterInfo) BootstrapConfig(token string) *rest.Config {
	return &rest.Config{
		Host:            c.Server,
		TLSClientConfig: rest.TLSClientConfig{CAData: c.CAData},
		BearerToken:     token,
		Timeout:         10 * time.Second,
	}
}

// AnonymousConfig is a client of the hub without credentials.
func (c *ClusterInfo) AnonymousConfig() *rest.Config {
	return &rest.Config{Host: c.Server, TLSClientConfig: rest.TLSClientConfig{CAData: c.CAData}, Timeout: 10 * time.Second}
}

// AgentKubeconfig builds the hub kubeconfig of cluster's agent the way
// karmadactl register does: cluster "karmada-apiserver", user <cluster>,
// context <cluster>@karmada-apiserver.
func (c *ClusterInfo) AgentKubeconfig(cluster string, certPEM, keyPEM []byte) *clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[HubClusterName] = &clientcmdapi.Cluster{Server: c.Server, CertificateAuthorityData: c.CAData}
	cfg.AuthInfos[cluster] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	ctx := AgentContext(cluster)
	cfg.Contexts[ctx] = &clientcmdapi.Context{Cluster: HubClusterName, AuthInfo: cluster}
	cfg.CurrentContext = ctx
	return cfg
}

// HubKubeconfig is a parsed hub kubeconfig whose selected context
// authenticates with a client certificate.
type HubKubeconfig struct {
	config   *clientcmdapi.Config
	context  string
	authInfo string
	cluster  *clientcmdapi.Cluster
	cert     tls.Certificate
}

// ParseHubKubeconfig reads a hub kubeconfig and selects context (the
// current context when empty). Certificate and CA files it names are read.
func ParseHubKubeconfig(raw []byte, context string) (*HubKubeconfig, error) {
	cfg, err := clientcmd.Load(raw)
	if err != nil {
		return nil, fmt.Errorf("parse hub kubeconfig: %w", err)
	}
	if context == "" {
		context = cfg.CurrentContext
	}
	kctx, ok := cfg.Contexts[context]
	if !ok {
		return nil, fmt.Errorf("hub kubeconfig has no context %q", context)
	}
	cluster, ok := cfg.Clusters[kctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("hub kubeconfig context %q names cluster %q, which it does not define", context, kctx.Cluster)
	}
	user, ok := cfg.AuthInfos[kctx.AuthInfo]
	if !ok {
		return nil, fmt.Errorf("hub kubeconfig context %q names user %q, which it does not define", context, kctx.AuthInfo)
	}
	if err := inlineFiles(cluster, user); err != nil {
		return nil, err
	}
	h := &HubKubeconfig{config: cfg, context: context, authInfo: kctx.AuthInfo, cluster: cluster}
	if h.cert, err = parseKeyPair(user.ClientCertificateData, user.ClientKeyData); err != nil {
		return nil, fmt.Errorf("hub kubeconfig user %q: %w", kctx.AuthInfo, err)
	}
	return h, nil
}

// inlineFiles replaces file references by their content, so that the
// kubeconfig can be written back as one self-contained document.
func inlineFiles(cluster *clientcmdapi.Cluster, user *clientcmdapi.AuthInfo) error {
	for _, f := range []struct {
		path *string
		data *[]byte
	}{
		{&cluster.CertificateAuthority, &cluster.CertificateAuthorityData},
		{&user.ClientCertificate, &user.ClientCertificateData},
		{&user.ClientKey, &user.ClientKeyData},
	} {
		if *f.path == "" || len(*f.data) > 0 {
			continue
		}
		raw, err := os.ReadFile(*f.path)
		if err != nil {
			return fmt.Errorf("hub kubeconfig: %w", err)
		}
		*f.data, *f.path = raw, ""
	}
	return nil
}

func parseKeyPair(certPEM, keyPEM []byte) (tls.Certificate, error) {
	if len(certPEM) == 0 || len(keyPEM) == 0 {
		return tls.Certificate{}, errors.New("no client certificate and key: the agent authenticates to the hub with a client certificate")
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("client certificate and key: %w", err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return tls.Certificate{}, fmt.Errorf("client certificate: %w", err)
		}
	}
	return cert, nil
}

// Context is the selected context.
func (h *HubKubeconfig) Context() string { return h.context }

// Server is the hub's URL.
func (h *HubKubeconfig) Server() string { return h.cluster.Server }

// Certificate is the client certificate the kubeconfig holds.
func (h *HubKubeconfig) Certificate() tls.Certificate { return h.cert }

// RESTConfig is a client with the kubeconfig's credentials, fixed for its
// lifetime. Rotator.ClientConfig follows rotations instead.
func (h *HubKubeconfig) RESTConfig() (*rest.Config, error) {
	return clientcmd.NewNonInteractiveClientConfig(*h.config, h.context, &clientcmd.ConfigOverrides{}, nil).ClientConfig()
}

// WithCertificate returns a copy whose selected user holds certPEM and
// keyPEM, serialized.
func (h *HubKubeconfig) WithCertificate(certPEM, keyPEM []byte) (*HubKubeconfig, []byte, error) {
	cert, err := parseKeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, nil, err
	}
	cfg := h.config.DeepCopy()
	user := cfg.AuthInfos[h.authInfo]
	user.ClientCertificateData, user.ClientKeyData = certPEM, keyPEM
	user.ClientCertificate, user.ClientKey = "", ""
	raw, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, nil, err
	}
	kctx := cfg.Contexts[h.context]
	return &HubKubeconfig{config: cfg, context: h.context, authInfo: h.authInfo, cluster: cfg.Clusters[kctx.Cluster], cert: cert}, raw, nil
}

// CertConfig is a client of the hub that authenticates with a client
// certificate.
func (c *ClusterInfo) CertConfig(certPEM, keyPEM []byte) *rest.Config {
	cfg := c.AnonymousConfig()
	cfg.CertData, cfg.KeyData = certPEM, keyPEM
	return cfg
}
