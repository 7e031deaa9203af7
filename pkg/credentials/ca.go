package credentials

import (
	"fmt"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/cert"
)

// CABundle is the CA bundle the agent trusts the member apiserver with:
// the certificate-authority data or file of its member config (in a pod,
// the ServiceAccount's ca.crt). It is nil when the config names none (the
// system roots); it is an error when what it names is not PEM certificates.
func CABundle(cfg *rest.Config) ([]byte, error) {
	c := rest.CopyConfig(cfg)
	if err := rest.LoadTLSFiles(c); err != nil {
		return nil, fmt.Errorf("read the member CA bundle: %w", err)
	}
	if len(c.CAData) == 0 {
		return nil, nil
	}
	if _, err := cert.ParseCertsPEM(c.CAData); err != nil {
		return nil, fmt.Errorf("the member CA bundle (certificate-authority of the member kubeconfig) is not PEM certificates: %w", err)
	}
	return c.CAData, nil
}
