package bootstrap

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"strings"
)

// pinPrefix is the only hash format kubeadm and Karmada print.
const pinPrefix = "sha256:"

// CACertHash returns the pin of a CA certificate as kubeadm prints it:
// "sha256:" and the lower-case hex SHA-256 of its DER SubjectPublicKeyInfo.
func CACertHash(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return pinPrefix + hex.EncodeToString(sum[:])
}

// PinSet is a set of CA public key pins ("sha256:<hex>").
type PinSet struct {
	hashes map[string]bool
}

// NewPinSet parses pins in kubeadm's format. A malformed pin is an error that
// names it.
func NewPinSet(pins []string) (*PinSet, error) {
	s := &PinSet{hashes: map[string]bool{}}
	for _, p := range pins {
		if err := ValidateCACertHash(p); err != nil {
			return nil, err
		}
		s.hashes[strings.ToLower(p)] = true
	}
	return s, nil
}

// ValidateCACertHash checks that pin is "sha256:" followed by 64 hex digits.
func ValidateCACertHash(pin string) error {
	hexPart, ok := strings.CutPrefix(strings.ToLower(pin), pinPrefix)
	if !ok {
		return fmt.Errorf("CA certificate hash %q must start with %q (the format 'tether-agent token create --print-register-command' prints)", pin, pinPrefix)
	}
	if raw, err := hex.DecodeString(hexPart); err != nil || len(raw) != sha256.Size {
		return fmt.Errorf("CA certificate hash %q must be %q followed by %d hex digits", pin, pinPrefix, 2*sha256.Size)
	}
	return nil
}

// Empty reports whether the set has no pin.
func (s *PinSet) Empty() bool { return s == nil || len(s.hashes) == 0 }

// Check returns nil when at least one of certs matches a pin.
func (s *PinSet) Check(certs []*x509.Certificate) error {
	seen := make([]string, 0, len(certs))
	for _, c := range certs {
		h := CACertHash(c)
		if s.hashes[h] {
			return nil
		}
		seen = append(seen, h)
	}
	return fmt.Errorf("none of the hub's CA certificates matches --discovery-token-ca-cert-hash (the hub presented %s): "+
		"check the hash with the hub's administrator ('tether-agent token create --print-register-command' prints it); "+
		"a mismatch can mean the endpoint is not the hub you expect", strings.Join(seen, ", "))
}
