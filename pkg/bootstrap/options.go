package bootstrap

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
)

// RotationOptions shape the rotation of the agent's hub client certificate.
// The flag names are karmada-agent's where it has one.
type RotationOptions struct {
	// Enabled rotates the certificate; when false the Rotator only follows
	// the stored kubeconfig, exports the expiry and warns near it.
	Enabled bool
	// RemainingTimeThreshold is the fraction of the certificate's lifetime
	// left at which it is renewed (karmada-agent's default 0.2).
	RemainingTimeThreshold float64
	// Jitter spreads renewals of agents registered together: the renewal
	// happens when the remaining fraction is between
	// RemainingTimeThreshold*(1-Jitter) and RemainingTimeThreshold.
	Jitter float64
	// CheckingInterval is the longest time between two checks of the stored
	// kubeconfig and of the certificate.
	CheckingInterval time.Duration
	// ExpirationSeconds is the lifetime asked for a renewed certificate; 0
	// asks for the lifetime of the current one (at least 600s, the minimum
	// the apiserver accepts).
	ExpirationSeconds int32
	// WaitTimeout bounds the wait for a renewal CSR to be issued.
	WaitTimeout time.Duration
}

// NewRotationOptions returns the defaults: on, at 20 % remaining life with
// 20 % jitter, checked every 5 minutes.
func NewRotationOptions() *RotationOptions {
	return &RotationOptions{
		Enabled:                true,
		RemainingTimeThreshold: 0.2,
		Jitter:                 0.2,
		CheckingInterval:       5 * time.Minute,
		WaitTimeout:            DefaultTimeout,
	}
}

// AddFlags registers the options on fs.
func (o *RotationOptions) AddFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.Enabled, "enable-cert-rotation", o.Enabled, "Renew the hub client certificate before it expires and use the new one without a restart.")
	fs.Float64Var(&o.RemainingTimeThreshold, "cert-rotation-remaining-time-threshold", o.RemainingTimeThreshold,
		"Renew the hub client certificate when this fraction of its lifetime remains (0 < x < 1).")
	fs.DurationVar(&o.CheckingInterval, "cert-rotation-checking-interval", o.CheckingInterval, "Longest time between two checks of the hub client certificate.")
	fs.Int32Var(&o.ExpirationSeconds, "cert-rotation-expiration-seconds", o.ExpirationSeconds,
		"Lifetime to ask for a renewed certificate; 0 asks for the lifetime of the current one (at least 600).")
}

// Validate checks the ranges; errors name the flag.
func (o *RotationOptions) Validate() error {
	var errs []error
	if o.RemainingTimeThreshold <= 0 || o.RemainingTimeThreshold >= 1 {
		errs = append(errs, fmt.Errorf("--cert-rotation-remaining-time-threshold=%v must be between 0 and 1, e.g. 0.2", o.RemainingTimeThreshold))
	}
	if o.Jitter < 0 || o.Jitter >= 1 {
		errs = append(errs, fmt.Errorf("rotation jitter %v must be in [0, 1)", o.Jitter))
	}
	if o.CheckingInterval <= 0 {
		errs = append(errs, fmt.Errorf("--cert-rotation-checking-interval=%s must be positive", o.CheckingInterval))
	}
	if o.ExpirationSeconds != 0 && o.ExpirationSeconds < MinExpirationSeconds {
		errs = append(errs, fmt.Errorf("--cert-rotation-expiration-seconds=%d must be 0 or at least %d", o.ExpirationSeconds, MinExpirationSeconds))
	}
	if o.WaitTimeout <= 0 {
		errs = append(errs, errors.New("rotation wait timeout must be positive"))
	}
	return errors.Join(errs...)
}
