package bootstrap

import (
	"bytes"
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/connrotation"
	"k8s.io/klog/v2"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// ClusterLabel marks the CSRs and hub objects Tether creates for a cluster,
// so that unregister finds them.
const ClusterLabel = "tether.io/cluster"

// RotatorConfig wires a Rotator.
type RotatorConfig struct {
	// Store holds the hub kubeconfig; it is read at start and at every check,
	// and renewed credentials are written back to it.
	Store Store
	// Context selects the kubeconfig context (current context when empty).
	Context string
	// Options shape the rotation; nil takes NewRotationOptions().
	Options *RotationOptions
	// Registerer receives the expiry gauge and the rotation counter; nil
	// registers nothing.
	Registerer prometheus.Registerer
	// Leading reports whether this replica may renew (the leader); others
	// only follow the Store. Nil means always.
	Leading func() bool
}

// Rotator keeps the agent's hub client certificate fresh: it renews it with
// a CSR of the same subject (approvable by Karmada's selfclusteragent rule)
// when at most RemainingTimeThreshold of its life is left, writes the new
// kubeconfig back to the Store and switches the clients built from
// ClientConfig to it in the running process.
//
// Failure scenarios: a renewal that is not approved or issued within
// WaitTimeout is retried with backoff until the certificate expires; a
// failed write-back keeps the new certificate in memory and is retried at
// the next check; a kubeconfig in the Store with a later expiry (renewed by
// another replica) is adopted.
type Rotator struct {
	store   Store
	context string
	opts    RotationOptions
	leading func() bool
	metrics *rotationMetrics
	conns   *connrotation.ConnectionTracker

	mu       sync.RWMutex
	kc       *HubKubeconfig
	deadline time.Time
	unsaved  []byte
}

// NewRotator loads the kubeconfig from the Store and validates it.
func NewRotator(ctx context.Context, cfg RotatorConfig) (*Rotator, error) {
	if cfg.Store == nil {
		return nil, errors.New("rotator: a Store is required")
	}
	opts := NewRotationOptions()
	if cfg.Options != nil {
		opts = cfg.Options
	}
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	metrics, err := newRotationMetrics(cfg.Registerer)
	if err != nil {
		return nil, err
	}
	r := &Rotator{store: cfg.Store, context: cfg.Context, opts: *opts, leading: cfg.Leading, metrics: metrics, conns: connrotation.NewConnectionTracker()}
	if r.leading == nil {
		r.leading = func() bool { return true }
	}
	kc, err := LoadHubKubeconfig(ctx, cfg.Store, cfg.Context)
	if err != nil {
		return nil, err
	}
	r.install(kc)
	return r, nil
}

func (r *Rotator) current() *HubKubeconfig {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.kc
}

// NotAfter is the expiry of the current certificate.
func (r *Rotator) NotAfter() time.Time { return r.current().Certificate().Leaf.NotAfter }

// Certificate is the certificate currently presented to the hub.
func (r *Rotator) Certificate() *x509.Certificate { return r.current().Certificate().Leaf }

// install switches to kc and closes the connections made with the previous
// certificate.
func (r *Rotator) install(kc *HubKubeconfig) {
	leaf := kc.Certificate().Leaf
	r.mu.Lock()
	changed := r.kc != nil
	r.kc = kc
	r.deadline = RotationDeadline(leaf, r.opts.RemainingTimeThreshold, r.opts.Jitter, rand.Float64())
	r.mu.Unlock()
	r.metrics.expiry.Set(float64(leaf.NotAfter.Unix()))
	if changed {
		r.conns.CloseAll()
	}
}

// RotationDeadline is when a certificate is renewed: when the remaining
// fraction of its life falls to threshold*(1-jitter*u), u in [0,1).
func RotationDeadline(leaf *x509.Certificate, threshold, jitter, u float64) time.Time {
	total := leaf.NotAfter.Sub(leaf.NotBefore)
	remaining := threshold * (1 - jitter*u)
	return leaf.NotAfter.Add(-time.Duration(float64(total) * remaining))
}

// Backdating of the kube-apiserver-client signer (kube-controller-manager):
// NotBefore is set 5 minutes in the past, and only a lifetime of 8 hours or
// more has the 5 minutes taken off NotAfter.
const (
	signerBackdate      = 5 * time.Minute
	signerShortLifetime = 8 * time.Hour
)

// RenewalExpirationSeconds is the lifetime a renewal of leaf asks for when
// none is configured: the lifetime leaf was asked for. That is its span,
// less the signer's backdating when it is short: asking for the span itself
// would lengthen every renewal by 5 minutes, past the lifetime cap of the
// approver that approved the first one. It is never below the apiserver's
// minimum, and never above what an expirationSeconds can hold.
func RenewalExpirationSeconds(leaf *x509.Certificate) int32 {
	span := leaf.NotAfter.Sub(leaf.NotBefore)
	if span < signerShortLifetime+signerBackdate {
		span -= signerBackdate
	}
	secs := int64(span / time.Second)
	return int32(min(max(secs, MinExpirationSeconds), 1<<31-1))
}

// Run checks the certificate until ctx ends: at its rotation deadline, and
// at least every CheckingInterval (to follow the Store). It returns nil when
// ctx ends.
func (r *Rotator) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx).WithName("cert-rotation")
	ctx = klog.NewContext(ctx, logger)
	backoff := 5 * time.Second
	for {
		wait := r.check(ctx)
		if wait < 0 { // a renewal failed
			wait, backoff = backoff, min(2*backoff, r.opts.CheckingInterval)
		} else {
			backoff = 5 * time.Second
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-timer.C:
		}
	}
}

// check does one round and returns how long to sleep; negative after a
// failed renewal.
func (r *Rotator) check(ctx context.Context) time.Duration {
	logger := klog.FromContext(ctx)
	r.follow(ctx)
	r.retrySave(ctx)
	r.mu.RLock()
	leaf, deadline := r.kc.Certificate().Leaf, r.deadline
	r.mu.RUnlock()
	now := time.Now()
	if now.Before(deadline) {
		return min(deadline.Sub(now), r.opts.CheckingInterval)
	}
	logger.Info("Hub client certificate is within the rotation threshold",
		"subject", leaf.Subject.CommonName, "notAfter", leaf.NotAfter, "remaining", leaf.NotAfter.Sub(now).Round(time.Second),
		"threshold", r.opts.RemainingTimeThreshold, "rotation", r.opts.Enabled)
	if !r.opts.Enabled || !r.leading() {
		return r.opts.CheckingInterval
	}
	if err := r.Rotate(ctx); err != nil {
		logger.Error(err, "Renewing the hub client certificate failed; retrying", "notAfter", leaf.NotAfter)
		return -1
	}
	return min(time.Until(r.deadlineNow()), r.opts.CheckingInterval)
}

func (r *Rotator) deadlineNow() time.Time {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.deadline
}

// follow adopts a kubeconfig from the Store whose certificate expires later
// than the current one (renewed by another replica, or by an operator).
func (r *Rotator) follow(ctx context.Context) {
	kc, err := LoadHubKubeconfig(ctx, r.store, r.context)
	if err != nil {
		klog.FromContext(ctx).Info("Cannot use the stored hub kubeconfig; keeping the current one", "store", r.store.String(), "err", err)
		return
	}
	cur := r.current().Certificate()
	if next := kc.Certificate(); next.Leaf.NotAfter.After(cur.Leaf.NotAfter) && !bytes.Equal(next.Certificate[0], cur.Certificate[0]) {
		klog.FromContext(ctx).Info("Adopting the newer hub client certificate from the store", "store", r.store.String(), "notAfter", next.Leaf.NotAfter)
		r.install(kc)
	}
}

func (r *Rotator) retrySave(ctx context.Context) {
	r.mu.RLock()
	unsaved := r.unsaved
	r.mu.RUnlock()
	if unsaved == nil {
		return
	}
	if err := r.store.Save(ctx, unsaved); err != nil {
		klog.FromContext(ctx).Error(err, "Writing the renewed hub kubeconfig back failed again")
		return
	}
	r.mu.Lock()
	r.unsaved = nil
	r.mu.Unlock()
}

// Rotate renews the certificate now: a CSR with the current subject,
// created with the current credentials, then the switch and the write-back.
func (r *Rotator) Rotate(ctx context.Context) (err error) {
	defer func() {
		result := "success"
		if err != nil {
			result = "failure"
		}
		r.metrics.rotations.WithLabelValues(result).Inc()
	}()
	kc := r.current()
	leaf := kc.Certificate().Leaf
	cfg, err := r.ClientConfig()
	if err != nil {
		return err
	}
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	secs := r.opts.ExpirationSeconds
	if secs == 0 {
		secs = RenewalExpirationSeconds(leaf)
	}
	subject := pkix.Name{CommonName: leaf.Subject.CommonName, Organization: leaf.Subject.Organization}
	req := CertificateRequest{GenerateName: kc.authInfo + "-", Subject: subject, ExpirationSeconds: secs,
		Labels: map[string]string{workv1alpha1.SystemLabel: "true"}}
	if cluster, ok := strings.CutPrefix(subject.CommonName, clusterv1alpha1.AgentUserPrefix); ok {
		req.Labels[ClusterLabel] = cluster
	}
	pending, err := SubmitCSR(ctx, client, req)
	if err != nil {
		return err
	}
	certPEM, err := WaitForCertificate(ctx, client, pending, WaitOptions{Timeout: r.opts.WaitTimeout})
	if err != nil {
		return err
	}
	next, raw, err := kc.WithCertificate(certPEM, pending.KeyPEM)
	if err != nil {
		return fmt.Errorf("CertificateSigningRequest %s: %w", pending.Name, err)
	}
	if got := next.Certificate().Leaf.Subject.CommonName; got != subject.CommonName {
		return fmt.Errorf("CertificateSigningRequest %s was issued for %q, not %q", pending.Name, got, subject.CommonName)
	}
	r.install(next)
	klog.FromContext(ctx).Info("Rotated the hub client certificate", "csr", pending.Name, "notAfter", next.Certificate().Leaf.NotAfter)
	if err := r.store.Save(ctx, raw); err != nil {
		r.mu.Lock()
		r.unsaved = raw
		r.mu.Unlock()
		klog.FromContext(ctx).Error(err, "The renewed certificate is in use but could not be written back; retrying at the next check")
	}
	return nil
}
