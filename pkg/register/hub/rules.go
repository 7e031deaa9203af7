package hub

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"

	certificatesv1 "k8s.io/api/certificates/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// RBACGeneratorCluster is the pseudo cluster name of Karmada's
// rbac-generator identity, which its CP binds to a cluster-admin role.
const RBACGeneratorCluster = "rbac-generator"

// AgentCSR is a CSR that asks for a Karmada agent identity.
type AgentCSR struct {
	// Cluster is the CN without the agent prefix.
	Cluster string
	// Request is the parsed x509 request.
	Request *x509.CertificateRequest
}

// ParseAgentCSR applies the "agent CSR" test of Karmada's agentcsrapproving
// controller: signer
// kubernetes.io/kube-apiserver-client, O exactly [system:karmada:agents], no
// SANs, CN prefixed system:karmada:agent:, usages {digital signature, key
// encipherment, client auth} or {digital signature, client auth}. It
// returns nil and no error for a CSR that is not an agent CSR at all (other
// signer or CN), and an error saying why for one that claims an agent CN
// but breaks a rule.
func ParseAgentCSR(csr *certificatesv1.CertificateSigningRequest, req *x509.CertificateRequest) (*AgentCSR, error) {
	if csr.Spec.SignerName != certificatesv1.KubeAPIServerClientSignerName {
		return nil, nil
	}
	cluster, ok := strings.CutPrefix(req.Subject.CommonName, clusterv1alpha1.AgentUserPrefix)
	if !ok {
		return nil, nil
	}
	if !slices.Equal(req.Subject.Organization, []string{clusterv1alpha1.AgentGroup}) {
		return nil, fmt.Errorf("organization must be exactly [%s], is %v", clusterv1alpha1.AgentGroup, req.Subject.Organization)
	}
	if len(req.DNSNames)+len(req.EmailAddresses)+len(req.IPAddresses)+len(req.URIs) > 0 {
		return nil, fmt.Errorf("an agent certificate has no subject alternative names")
	}
	if !agentUsages(csr.Spec.Usages) {
		return nil, fmt.Errorf("usages must be {digital signature, key encipherment, client auth} or {digital signature, client auth}, are %v", csr.Spec.Usages)
	}
	return &AgentCSR{Cluster: cluster, Request: req}, nil
}

func agentUsages(usages []certificatesv1.KeyUsage) bool {
	set := map[certificatesv1.KeyUsage]bool{}
	for _, u := range usages {
		set[u] = true
	}
	want := func(us ...certificatesv1.KeyUsage) bool {
		if len(set) != len(us) {
			return false
		}
		for _, u := range us {
			if !set[u] {
				return false
			}
		}
		return true
	}
	return want(certificatesv1.UsageDigitalSignature, certificatesv1.UsageKeyEncipherment, certificatesv1.UsageClientAuth) ||
		want(certificatesv1.UsageDigitalSignature, certificatesv1.UsageClientAuth)
}

// ValidateClusterName checks a cluster name as karmada-agent does: a
// DNS-1123 label of at most 48 characters. The rbac-generator name is
// refused: it is not a cluster.
func ValidateClusterName(name string) error {
	if errs := validation.IsDNS1123Label(name); len(errs) > 0 {
		return fmt.Errorf("cluster name %q is not a DNS-1123 label: %s", name, strings.Join(errs, "; "))
	}
	if len(name) > clusterv1alpha1.MaxClusterNameLength {
		return fmt.Errorf("cluster name %q is longer than %d characters", name, clusterv1alpha1.MaxClusterNameLength)
	}
	if name == RBACGeneratorCluster {
		return fmt.Errorf("cluster name %q is reserved for Karmada's RBAC generator identity", name)
	}
	return nil
}
