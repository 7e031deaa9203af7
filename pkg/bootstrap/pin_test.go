package bootstrap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"
	"time"
)

func selfSigned(t *testing.T, cn string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn}, NotBefore: notBefore, NotAfter: notAfter}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func TestCACertHashIsSPKISHA256(t *testing.T) {
	cert := selfSigned(t, "ca", time.Now(), time.Now().Add(time.Hour))
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	if got, want := CACertHash(cert), "sha256:"+hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("CACertHash = %s, want %s", got, want)
	}
	pins, err := NewPinSet([]string{strings.ToUpper(CACertHash(cert)[7:])})
	if err == nil || pins != nil {
		t.Fatalf("a pin without the sha256: prefix was accepted")
	}
	pins, err = NewPinSet([]string{"SHA256:" + strings.ToUpper(CACertHash(cert)[7:])})
	if err != nil {
		t.Fatal(err)
	}
	if err := pins.Check([]*x509.Certificate{cert}); err != nil {
		t.Fatalf("upper-case pin of the same key: %v", err)
	}
	other := selfSigned(t, "other", time.Now(), time.Now().Add(time.Hour))
	if err := pins.Check([]*x509.Certificate{other}); err == nil || !strings.Contains(err.Error(), CACertHash(other)) {
		t.Fatalf("a different CA must be refused and named, got %v", err)
	}
}

func TestValidateCACertHash(t *testing.T) {
	for _, bad := range []string{"", "sha256:", "sha256:abc", "md5:" + strings.Repeat("a", 64), "sha256:" + strings.Repeat("z", 64)} {
		if ValidateCACertHash(bad) == nil {
			t.Errorf("%q was accepted", bad)
		}
	}
	if err := ValidateCACertHash("sha256:" + strings.Repeat("0f", 32)); err != nil {
		t.Error(err)
	}
}

func TestRotationDeadline(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	leaf := selfSigned(t, "x", start, start.Add(100*time.Hour))
	for _, tc := range []struct {
		u    float64
		want time.Duration // after NotBefore
	}{
		{0, 80 * time.Hour},        // 20 % left
		{0.5, 82 * time.Hour},      // 18 % left
		{0.999999, 84 * time.Hour}, // ~16 % left
	} {
		got := RotationDeadline(leaf, 0.2, 0.2, tc.u).Sub(start)
		if d := got - tc.want; d > time.Second || d < -time.Second {
			t.Errorf("u=%v: deadline %s after NotBefore, want %s", tc.u, got, tc.want)
		}
	}
}

func TestServerURL(t *testing.T) {
	for in, want := range map[string]string{"10.0.0.58:6443": "https://10.0.0.58:6443", "https://hub.example:443": "https://hub.example:443", "[::1]:6443": "https://[::1]:6443"} {
		if got, err := ServerURL(in); err != nil || got != want {
			t.Errorf("ServerURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"hub", "hub:6443/path", "", "http://hub"} {
		if _, err := ServerURL(bad); err == nil {
			t.Errorf("ServerURL(%q) accepted", bad)
		}
	}
}

func TestRotationOptionsValidate(t *testing.T) {
	o := NewRotationOptions()
	if err := o.Validate(); err != nil {
		t.Fatal(err)
	}
	o.RemainingTimeThreshold, o.ExpirationSeconds = 1.5, 60
	err := o.Validate()
	if err == nil || !strings.Contains(err.Error(), "--cert-rotation-remaining-time-threshold") || !strings.Contains(err.Error(), "--cert-rotation-expiration-seconds") {
		t.Fatalf("errors must name the flags, got %v", err)
	}
}
