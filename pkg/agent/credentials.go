package agent

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/klog/v2"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/credentials"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/pkg/status/cluster"
)

// CredentialOptions are the flags of member credentials reporting.
type CredentialOptions struct {
	// ClusterNamespace is the hub namespace of the credentials Secrets and
	// the member namespace of their ServiceAccounts (--cluster-namespace).
	ClusterNamespace string
	// ReportSecrets is --report-secrets.
	ReportSecrets []string
	// TokenLifetime is the lifetime asked for each token.
	TokenLifetime time.Duration
	// RefreshInterval, when positive, replaces 80 % of the token lifetime
	// between two refreshes (hidden: for tests).
	RefreshInterval time.Duration
}

// NewCredentialOptions are the defaults: nothing reported, unlike
// karmada-agent, whose default reports both.
func NewCredentialOptions() CredentialOptions {
	return CredentialOptions{ClusterNamespace: clusterv1alpha1.DefaultClusterNamespace,
		ReportSecrets: []string{credentials.None}, TokenLifetime: credentials.DefaultLifetime}
}

func (c *CredentialOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVar(&c.ClusterNamespace, "cluster-namespace", c.ClusterNamespace,
		"Hub namespace of the member credentials Secrets (--report-secrets), and member namespace of their ServiceAccounts.")
	fs.StringSliceVar(&c.ReportSecrets, "report-secrets", c.ReportSecrets,
		"Member credentials to report to the hub, for the control plane's cluster proxy, karmada-search, metrics adapter and unified auth: "+
			"KubeCredentials (a token of the ServiceAccount karmada-<cluster>, which may do anything in the member), KubeImpersonator "+
			"(a token of karmada-impersonator), or None. Tether's default is None; karmada-agent's is both.")
	fs.DurationVar(&c.TokenLifetime, "report-secrets-token-lifetime", c.TokenLifetime,
		"Lifetime of each reported token (at least 10m); a new one is reported at about 80% of it.")
	fs.DurationVar(&c.RefreshInterval, "report-secrets-refresh-interval", c.RefreshInterval,
		"Time between two token refreshes instead of 80% of the lifetime (for tests).")
	_ = fs.MarkHidden("report-secrets-refresh-interval")
}

func (c *CredentialOptions) validate() error {
	if _, err := credentials.Parse(c.ReportSecrets); err != nil {
		return err
	}
	if c.ClusterNamespace == "" {
		return fmt.Errorf("--cluster-namespace must not be empty (default %s)", clusterv1alpha1.DefaultClusterNamespace)
	}
	if c.TokenLifetime < credentials.MinLifetime {
		return fmt.Errorf("--report-secrets-token-lifetime must be at least %s (the shortest a kube-apiserver issues), got %s", credentials.MinLifetime, c.TokenLifetime)
	}
	if c.RefreshInterval < 0 || c.RefreshInterval >= c.TokenLifetime {
		return fmt.Errorf("--report-secrets-refresh-interval must be below --report-secrets-token-lifetime (0: at 80%% of the lifetime), got %s", c.RefreshInterval)
	}
	return nil
}

// report is what is reported; Validate has checked it parses.
func (c *CredentialOptions) report() credentials.Report {
	r, _ := credentials.Parse(c.ReportSecrets)
	return r
}

// secretRefs sets the references of what is reported, and may be written,
// on the Cluster's settings. What is not reported leaves the hub's
// references alone.
func (c *CredentialOptions) secretRefs(s *cluster.Settings, access hubaccess.Set) {
	r := c.report()
	if r.Credentials && access.Can(hubaccess.ReportCredentials) {
		s.SecretRef = cluster.SecretRef(c.ClusterNamespace, s.Name)
	}
	if r.Impersonator && access.Can(hubaccess.ReportImpersonator) {
		s.ImpersonatorSecretRef = cluster.ImpersonatorSecretRef(c.ClusterNamespace, s.Name)
	}
}

// credentialsRun says at start what is reported, and returns the
// refresher that reports it, or nil when nothing is (or may be) reported.
func credentialsRun(ctx context.Context, o *Options, c *clients, joined *clusterv1alpha1.Cluster, access hubaccess.Set) (func(context.Context) error, error) {
	log := klog.FromContext(ctx)
	want := o.Credentials.report()
	r := credentials.Report{Credentials: want.Credentials && access.Can(hubaccess.ReportCredentials),
		Impersonator: want.Impersonator && access.Can(hubaccess.ReportImpersonator)}
	warnUnmanagedRefs(ctx, joined, r)
	if !r.Any() {
		log.Info("Member credentials are not reported to the hub", "reportSecrets", want.String(), "reported", r.String(),
			"hint", "--report-secrets=KubeCredentials,KubeImpersonator reports them (karmada-agent's default), for the control plane's cluster proxy, karmada-search, metrics adapter and unified auth")
		return nil, nil
	}
	ca, err := credentials.CABundle(c.memberConfig)
	if err != nil {
		return nil, err
	}
	ns := o.Credentials.ClusterNamespace
	log.Info("Reporting member credentials to the hub", "reportSecrets", r.String(), "secrets", reportedSecrets(ns, o.ClusterName, r),
		"tokenLifetime", o.Credentials.TokenLifetime.String(), "caBundle", ca != nil)
	if ca == nil {
		log.Info("Warning: the member kubeconfig names no certificate authority, so the credentials Secret has an empty caBundle and the control plane verifies the member with its system roots")
	}
	if o.ClusterAPIEndpoint == "" && joined.Spec.APIEndpoint == "" {
		log.Info("Warning: the Cluster has no spec.apiEndpoint (--cluster-api-endpoint), so the control plane cannot use the reported credentials")
	}
	refresher, err := credentials.NewRefresher(credentials.Config{Cluster: o.ClusterName, Namespace: ns, Member: c.memberKube,
		Report: r, CABundle: ca, Lifetime: o.Credentials.TokenLifetime, RefreshAfter: o.Credentials.RefreshInterval,
		Upload: func(ctx context.Context, t credentials.Tokens) error {
			up := &cluster.Credentials{HubCore: c.hubKube, Namespace: ns, CABundle: t.CABundle, Token: t.Credentials, ImpersonatorToken: t.Impersonator}
			return up.Upload(ctx, joined)
		}})
	if err != nil {
		return nil, err
	}
	return refresher.Run, nil
}

// reportedSecrets names the hub Secrets of r.
func reportedSecrets(ns, name string, r credentials.Report) []string {
	var out []string
	if r.Credentials {
		ref := cluster.SecretRef(ns, name)
		out = append(out, ref.Namespace+"/"+ref.Name)
	}
	if r.Impersonator {
		ref := cluster.ImpersonatorSecretRef(ns, name)
		out = append(out, ref.Namespace+"/"+ref.Name)
	}
	return out
}

// warnUnmanagedRefs warns about references on the Cluster to credentials
// the agent does not report: karmada-agent (whose default reports both)
// wrote them on a migrated cluster. Tether leaves them and their Secrets,
// and the control plane uses them for as long as their tokens are valid.
func warnUnmanagedRefs(ctx context.Context, c *clusterv1alpha1.Cluster, r credentials.Report) {
	for _, ref := range []struct {
		field    string
		ref      *clusterv1alpha1.LocalSecretReference
		reported bool
		value    string
	}{
		{"spec.secretRef", c.Spec.SecretRef, r.Credentials, credentials.KubeCredentials},
		{"spec.impersonatorSecretRef", c.Spec.ImpersonatorSecretRef, r.Impersonator, credentials.KubeImpersonator},
	} {
		if ref.ref == nil || ref.reported {
			continue
		}
		klog.FromContext(ctx).Info("Warning: the Cluster references member credentials this agent does not report (written by karmada-agent or an earlier run); "+
			"they are left as they are and never refreshed, and the control plane's cluster proxy keeps working only while their token is valid",
			"field", ref.field, "secret", ref.ref.Namespace+"/"+ref.ref.Name, "flag", "--report-secrets includes "+ref.value)
	}
}
