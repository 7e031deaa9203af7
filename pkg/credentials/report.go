package credentials

import (
	"fmt"
	"strings"
)

// The values of --report-secrets, karmada-agent's.
const (
	KubeCredentials  = "KubeCredentials"
	KubeImpersonator = "KubeImpersonator"
	None             = "None"
)

// Report is which credentials the hub gets.
type Report struct {
	// Credentials is KubeCredentials: a token of the ServiceAccount
	// karmada-<C>, which may do anything in the member, and its CA bundle.
	Credentials bool
	// Impersonator is KubeImpersonator: a token of the ServiceAccount
	// karmada-impersonator, which may impersonate what the control plane
	// grants it.
	Impersonator bool
}

// Parse reads --report-secrets: a list of KubeCredentials and
// KubeImpersonator, or None alone. An empty list is None.
func Parse(values []string) (Report, error) {
	var r Report
	none := false
	for _, v := range values {
		switch strings.TrimSpace(v) {
		case KubeCredentials:
			r.Credentials = true
		case KubeImpersonator:
			r.Impersonator = true
		case None, "":
			none = true
		default:
			return Report{}, fmt.Errorf("--report-secrets: %q is not one of %s, %s, %s", v, KubeCredentials, KubeImpersonator, None)
		}
	}
	if none && r.Any() {
		return Report{}, fmt.Errorf("--report-secrets: %s cannot be combined with %s or %s", None, KubeCredentials, KubeImpersonator)
	}
	return r, nil
}

// Any reports whether anything is reported.
func (r Report) Any() bool { return r.Credentials || r.Impersonator }

// String is the flag value that gives r.
func (r Report) String() string {
	var parts []string
	if r.Credentials {
		parts = append(parts, KubeCredentials)
	}
	if r.Impersonator {
		parts = append(parts, KubeImpersonator)
	}
	if len(parts) == 0 {
		return None
	}
	return strings.Join(parts, ",")
}
