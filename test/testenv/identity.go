package testenv

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/client-go/rest"
)

// Identity returns a rest config that authenticates to the cluster as user in
// groups, with a client certificate signed by the cluster's CA. It is what
// RBAC tests use to act as an agent, a bootstrapper or any other subject.
func (c *Cluster) Identity(user string, groups ...string) (*rest.Config, error) {
	ca, err := loadAuthority(c.PKIDir, "ca")
	if err != nil {
		return nil, fmt.Errorf("load CA of %s: %w", c.Name, err)
	}
	crt, key, err := ca.issue(user, groups, nil, nil)
	if err != nil {
		return nil, err
	}
	cfg := rest.AnonymousClientConfig(c.Config)
	cfg.CertData, cfg.KeyData = crt, key
	return cfg, nil
}

// IdentityKubeconfig is Identity written as a kubeconfig file under the
// environment's directory, for tests that drive a binary.
func (c *Cluster) IdentityKubeconfig(user string, groups ...string) (string, error) {
	cfg, err := c.Identity(user, groups...)
	if err != nil {
		return "", err
	}
	ca, err := os.ReadFile(filepath.Join(c.PKIDir, "ca.crt"))
	if err != nil {
		return "", err
	}
	safe := strings.NewReplacer(":", "_", "/", "_").Replace(user)
	path := filepath.Join(filepath.Dir(c.Kubeconfig), "identities", c.Name+"-"+safe+".kubeconfig")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return path, writeKubeconfig(path, c.Name, c.URL, ca, cfg.CertData, cfg.KeyData)
}

// Anonymous returns a rest config with no credentials that trusts the cluster's CA.
func (c *Cluster) Anonymous() *rest.Config { return rest.AnonymousClientConfig(c.Config) }
