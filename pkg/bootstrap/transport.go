package bootstrap

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"

	utilnet "k8s.io/apimachinery/pkg/util/net"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/connrotation"
)

// ClientConfig returns a hub client configuration that presents the
// rotator's current certificate on every new TLS connection. When the
// certificate is rotated, the rotator closes the connections it opened, so
// clients built from this configuration switch to the new certificate
// without a restart (watches reconnect). Each call returns a new value the
// caller may tune (QPS, Burst, UserAgent).
func (r *Rotator) ClientConfig() (*rest.Config, error) {
	base, err := r.current().RESTConfig()
	if err != nil {
		return nil, err
	}
	tlsConfig, err := rest.TLSConfigFor(base)
	if err != nil {
		return nil, fmt.Errorf("hub TLS configuration: %w", err)
	}
	tlsConfig.Certificates = nil
	tlsConfig.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
		cert := r.current().Certificate()
		return &cert, nil
	}
	dialer := connrotation.NewDialerWithTracker((&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext, r.conns)
	proxy := base.Proxy
	if proxy == nil {
		proxy = http.ProxyFromEnvironment
	}
	transport := utilnet.SetTransportDefaults(&http.Transport{
		Proxy:               proxy,
		TLSHandshakeTimeout: 10 * time.Second,
		TLSClientConfig:     tlsConfig,
		MaxIdleConnsPerHost: 25,
		DialContext:         dialer.DialContext,
	})
	return &rest.Config{
		Host:      base.Host,
		APIPath:   base.APIPath,
		Transport: transport,
		Timeout:   base.Timeout,
		QPS:       base.QPS,
		Burst:     base.Burst,
	}, nil
}
