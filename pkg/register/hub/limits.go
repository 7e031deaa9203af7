package hub

import (
	"context"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
)

// DefaultMaxCertificateLifetime is the longest agent certificate the
// approver issues unless told otherwise: one year, the lifetime register
// asks for by default and the kube-controller-manager's default
// --cluster-signing-duration. A stolen certificate is good for at most that
// long; a running agent renews its own before it expires.
const DefaultMaxCertificateLifetime = 365 * 24 * time.Hour

// maxExpirationSeconds is the largest lifetime a CSR can express.
const maxExpirationSeconds = 1<<31 - 1

// defaultLeaseDuration is karmada-agent's --cluster-lease-duration, used
// for a Lease that does not state its own.
const defaultLeaseDuration = 40 * time.Second

// ValidateMaxCertificateLifetime checks a lifetime cap; errors name the
// approver's flag.
func ValidateMaxCertificateLifetime(d time.Duration) error {
	if d < bootstrap.MinExpirationSeconds*time.Second || d > maxExpirationSeconds*time.Second {
		return fmt.Errorf("--max-certificate-lifetime=%s must be between %s (the apiserver's minimum) and %s (spec.expirationSeconds' maximum), e.g. 8760h",
			d, bootstrap.MinExpirationSeconds*time.Second, maxExpirationSeconds*time.Second)
	}
	return nil
}

// lifetimeViolation says why csr asks for a lifetime the approver does not
// issue, or returns "". The approver cannot shorten a request (the signer
// reads spec.expirationSeconds, which is immutable), so a request without
// spec.expirationSeconds (left to the signer's --cluster-signing-duration,
// which the approver does not know) or above max is denied, with the flags
// that ask for less. register and the agent's rotation always set it.
func lifetimeViolation(csr *certificatesv1.CertificateSigningRequest, max time.Duration) string {
	limit := int64(max / time.Second)
	how := fmt.Sprintf("ask for at most %d seconds (tether-agent register --cert-expiration-seconds; "+
		"a running agent: tether-agent run --cert-rotation-expiration-seconds)", limit)
	secs := csr.Spec.ExpirationSeconds
	if secs == nil {
		return fmt.Sprintf("the request sets no spec.expirationSeconds, and this hub's approver issues agent certificates for at most %s: %s", max, how)
	}
	if int64(*secs) > limit {
		return fmt.Sprintf("the request asks for a certificate of %d seconds (spec.expirationSeconds), longer than this hub's approver issues (%s): %s",
			*secs, max, how)
	}
	return ""
}

// liveAgent says why cluster's agent counts as alive, or returns "": its
// heartbeat Lease karmada-cluster/<cluster> was renewed within its
// duration, judged by the approver's clock. A live agent renews its
// certificate with the certificate it has; a bootstrap request for its
// identity while it runs is someone else asking for it.
func (a *Approver) liveAgent(ctx context.Context, cluster string) (string, error) {
	lease, err := a.kube.CoordinationV1().Leases(clusterv1alpha1.LeaseNamespace).Get(ctx, cluster, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read Lease %s/%s: %w", clusterv1alpha1.LeaseNamespace, cluster, err)
	}
	renewed, duration, fresh := leaseFresh(lease, a.clock.Now())
	if !fresh {
		return "", nil
	}
	return fmt.Sprintf("cluster %s's agent is alive: its Lease %s/%s was renewed %s ago (duration %s). A running agent renews its certificate itself; "+
		"its identity is not re-issued to a bootstrap token meanwhile. Stop that agent (or run 'tether-agent unregister %s'), "+
		"then register again once the Lease has expired",
		cluster, clusterv1alpha1.LeaseNamespace, cluster, a.clock.Since(renewed).Round(time.Second), duration, cluster), nil
}

// leaseFresh reports whether lease was renewed (or acquired) less than its
// duration before now. A Lease stamped in the future (a clock ahead of the
// approver's) counts as fresh.
func leaseFresh(lease *coordinationv1.Lease, now time.Time) (renewed time.Time, duration time.Duration, fresh bool) {
	duration = defaultLeaseDuration
	if s := lease.Spec.LeaseDurationSeconds; s != nil && *s > 0 {
		duration = time.Duration(*s) * time.Second
	}
	switch {
	case lease.Spec.RenewTime != nil:
		renewed = lease.Spec.RenewTime.Time
	case lease.Spec.AcquireTime != nil:
		renewed = lease.Spec.AcquireTime.Time
	default:
		return renewed, duration, false
	}
	return renewed, duration, now.Before(renewed.Add(duration))
}
