package hub

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"net"
	"slices"
	"strings"
	"testing"

	certificatesv1 "k8s.io/api/certificates/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

func TestParseAgentCSR(t *testing.T) {
	agent := pkix.Name{CommonName: "system:karmada:agent:c1", Organization: []string{"system:karmada:agents"}}
	csr := func(signer string, usages ...certificatesv1.KeyUsage) *certificatesv1.CertificateSigningRequest {
		return &certificatesv1.CertificateSigningRequest{Spec: certificatesv1.CertificateSigningRequestSpec{SignerName: signer, Usages: usages}}
	}
	client := certificatesv1.KubeAPIServerClientSignerName
	full := []certificatesv1.KeyUsage{certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth}
	for _, tc := range []struct {
		name    string
		csr     *certificatesv1.CertificateSigningRequest
		req     x509.CertificateRequest
		cluster string // empty: not an agent CSR
		err     string
	}{
		{"agent", csr(client, full...), x509.CertificateRequest{Subject: agent}, "c1", ""},
		{"agent without key encipherment", csr(client, certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth), x509.CertificateRequest{Subject: agent}, "c1", ""},
		{"other signer", csr("kubernetes.io/kubelet-serving", full...), x509.CertificateRequest{Subject: agent}, "", ""},
		{"other CN", csr(client, full...), x509.CertificateRequest{Subject: pkix.Name{CommonName: "alice"}}, "", ""},
		{"extra organization", csr(client, full...), x509.CertificateRequest{Subject: pkix.Name{CommonName: agent.CommonName, Organization: []string{"system:karmada:agents", "x"}}}, "", "organization"},
		{"SAN", csr(client, full...), x509.CertificateRequest{Subject: agent, IPAddresses: []net.IP{net.IPv4(1, 2, 3, 4)}}, "", "alternative names"},
		{"server auth", csr(client, certificatesv1.UsageDigitalSignature, certificatesv1.UsageServerAuth), x509.CertificateRequest{Subject: agent}, "", "usages"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAgentCSR(tc.csr, &tc.req)
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("want an error about %q, got %v", tc.err, err)
				}
			case err != nil:
				t.Fatal(err)
			case tc.cluster == "" && got != nil:
				t.Fatalf("recognized as the agent CSR of %q", got.Cluster)
			case tc.cluster != "" && (got == nil || got.Cluster != tc.cluster):
				t.Fatalf("got %+v, want cluster %q", got, tc.cluster)
			}
		})
	}
}

func TestValidateClusterName(t *testing.T) {
	for _, bad := range []string{"", "rbac-generator", "Upper", "a.b", strings.Repeat("a", 49), "-a"} {
		if ValidateClusterName(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if err := ValidateClusterName(strings.Repeat("a", 48)); err != nil {
		t.Error(err)
	}
}

// TestClusterAccessIsScopedToTheCluster: outside the cluster's execution
// namespace every rule on clusters, leases or secrets names its objects,
// except create (RBAC sees no name on a create), and no rule grants
// wildcards.
func TestClusterAccessIsScopedToTheCluster(t *testing.T) {
	for _, obj := range (ClusterAccess{Cluster: "c1"}).Objects() {
		var rules []rbacv1.PolicyRule
		switch o := obj.(type) {
		case *rbacv1.ClusterRole:
			rules = o.Rules
		case *rbacv1.Role:
			if o.Namespace == "karmada-es-c1" {
				continue
			}
			rules = o.Rules
		}
		for _, r := range rules {
			for _, v := range append(append(r.Verbs, r.Resources...), r.APIGroups...) {
				if v == "*" {
					t.Errorf("wildcard in %+v", r)
				}
			}
			named := slices.ContainsFunc(r.Resources, func(res string) bool {
				return res == "clusters" || res == "clusters/status" || res == "leases" || res == "secrets"
			})
			if named && len(r.ResourceNames) == 0 && !slices.Equal(r.Verbs, []string{"create"}) {
				t.Errorf("rule %+v is not limited to the cluster's own objects", r)
			}
		}
	}
}
