package bootstrap_test

import (
	"crypto/x509"
	"testing"
	"time"

	"github.com/tether-io/tether/pkg/bootstrap"
)

// TestRenewalExpirationSeconds: a renewal asks for the lifetime the
// certificate was asked for, not its span, which the signer stretches by 5
// minutes when it is under 8 hours; so renewals do not creep past the
// approver's lifetime cap.
func TestRenewalExpirationSeconds(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		name     string
		notAfter time.Duration // after now; NotBefore is 5 minutes before now
		want     int32
	}{
		{"one year, backdated", 365*24*time.Hour - 5*time.Minute, 365 * 24 * 3600},
		{"one hour, not backdated at the end", time.Hour, 3600},
		{"the 10 minute minimum", 10 * time.Minute, 600},
		{"eight hours", 8*time.Hour - 5*time.Minute, 8*3600 - 300},
		{"shorter than the apiserver's minimum", time.Minute, 600},
	} {
		leaf := &x509.Certificate{NotBefore: now.Add(-5 * time.Minute), NotAfter: now.Add(tc.notAfter)}
		if got := bootstrap.RenewalExpirationSeconds(leaf); got != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, got, tc.want)
		}
	}
}
