package credentials

import (
	"fmt"
	"time"
)

// Tokens are what the hub gets: the member's CA bundle and a token of each
// reported ServiceAccount. They print as redacted, with fmt and with a
// logr logger, so that a slip in a log call leaks nothing.
type Tokens struct {
	// CABundle is the member apiserver's CA bundle (PEM), or nil when the
	// agent trusts the system roots for it.
	CABundle []byte
	// Credentials is the token of karmada-<C> (nil unless KubeCredentials).
	Credentials []byte
	// Impersonator is the token of karmada-impersonator (nil unless
	// KubeImpersonator).
	Impersonator []byte
	// Issued is when they were requested, Expiry when the first of them
	// expires.
	Issued, Expiry time.Time
}

// redacted is how Tokens print.
func (t Tokens) redacted() string {
	return fmt.Sprintf("Tokens{credentials:%t impersonator:%t expiry:%s}", t.Credentials != nil, t.Impersonator != nil, t.Expiry.UTC().Format(time.RFC3339))
}

// String hides the tokens.
func (t Tokens) String() string { return t.redacted() }

// GoString hides the tokens from %#v.
func (t Tokens) GoString() string { return t.redacted() }

// MarshalLog hides the tokens from logr loggers.
func (t Tokens) MarshalLog() any { return t.redacted() }
