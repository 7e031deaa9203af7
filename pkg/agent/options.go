// Package agent is the agent process: it builds the hub and member clients
// once, elects a leader on the member, joins the hub, and runs the
// heartbeat, cluster status, Work sync and certificate rotation, with
// metrics, probes and a graceful shutdown. cmd/agent only binds the flags.
package agent

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/deletion"
	"github.com/tether-io/tether/pkg/drift"
	"github.com/tether-io/tether/pkg/hubconn"
	"github.com/tether-io/tether/pkg/override"
	statuscluster "github.com/tether-io/tether/pkg/status/cluster"
	statuswork "github.com/tether-io/tether/pkg/status/work"
)

// Options are the agent's settings. Flag names are karmada-agent's wherever
// the meaning is the same, so a Deployment written for karmada-agent runs
// Tether unchanged.
type Options struct {
	KarmadaKubeconfig          string
	KarmadaContext             string
	KarmadaKubeconfigNamespace string
	Kubeconfig                 string

	ClusterName        string
	ClusterAPIEndpoint string
	ClusterProvider    string
	ClusterRegion      string
	ClusterZones       []string
	ProxyServerAddress string

	ClusterStatusUpdateFrequency      time.Duration
	ClusterLeaseDuration              time.Duration
	ClusterLeaseRenewIntervalFraction float64
	ClusterSuccessThreshold           time.Duration
	ClusterFailureThreshold           time.Duration
	ClusterCacheSyncTimeout           time.Duration

	KubeAPIQPS, ClusterAPIQPS     float32
	KubeAPIBurst, ClusterAPIBurst int
	ConcurrentWorkSyncs           int
	Controllers                   []string
	RenderOverrides               string
	// DriftMode is what the engine does about drift on a manifest without
	// the tether.io/drift-mode annotation (pkg/drift): correct or report.
	DriftMode string

	LeaderElect              bool
	LeaderElectResourceNS    string
	LeaderElectLeaseDuration time.Duration
	LeaderElectRenewDeadline time.Duration
	LeaderElectRetryPeriod   time.Duration
	MetricsBindAddress       string
	// EnablePprof and ProfilingBindAddress serve net/http/pprof, as karmada-agent's flags do.
	EnablePprof            bool
	ProfilingBindAddress   string
	HealthProbeBindAddress string
	LogFormat              string
	Verbosity              int
	StatusWindow           time.Duration
	StatusProgressInterval time.Duration
	// BulkDeleteThreshold and HeldDeleteGrace configure the bulk-deletion
	// guard (pkg/deletion).
	BulkDeleteThreshold int
	HeldDeleteGrace     time.Duration
	// LivenessStallTimeout fails /healthz when the Work controller has
	// finished no reconcile for this long while reconciles are under way.
	LivenessStallTimeout time.Duration
	// HubReconnectMaxDelay caps the jittered wait between readiness probes
	// of a hub that went away (pkg/hubconn).
	HubReconnectMaxDelay time.Duration

	Rotation *bootstrap.RotationOptions
	// Credentials are --report-secrets and its settings.
	Credentials CredentialOptions

	// ignored names the karmada-agent flags Tether accepts but does not need.
	ignored []string
}

// NewOptions returns the defaults (karmada-agent's, except where noted).
func NewOptions() *Options {
	return &Options{
		KarmadaKubeconfigNamespace:        clusterv1alpha1.AgentNamespace,
		ClusterStatusUpdateFrequency:      statuscluster.DefaultStatusInterval,
		ClusterLeaseDuration:              statuscluster.DefaultLeaseDuration,
		ClusterLeaseRenewIntervalFraction: statuscluster.DefaultRenewFraction,
		ClusterSuccessThreshold:           statuscluster.DefaultReadyThreshold,
		ClusterFailureThreshold:           statuscluster.DefaultReadyThreshold,
		ClusterCacheSyncTimeout:           statuscluster.DefaultCacheSyncTimeout,
		// Higher than karmada-agent's 40/60: Tether writes one status per Work
		// and nothing else per Work, so the budget goes further.
		KubeAPIQPS: 200, KubeAPIBurst: 400,
		ClusterAPIQPS: 200, ClusterAPIBurst: 400,
		// Higher than karmada-agent's 5: a reconcile mostly waits on the
		// member apiserver, and on a busy 2-core member 16 workers brought
		// 2,000 Works to Applied about a fifth sooner than 8 (make bench).
		ConcurrentWorkSyncs: 16,
		// karmada-agent's default is '*', which leaves certRotation off;
		// Tether's keeps the certificate renewed when --controllers is not
		// given (karmadactl's Deployment gives '*' and gets karmada-agent's set).
		Controllers:              []string{"*", "certRotation"},
		RenderOverrides:          string(override.ModeAuto),
		DriftMode:                string(drift.Correct),
		LeaderElect:              true,
		LeaderElectResourceNS:    clusterv1alpha1.AgentNamespace,
		LeaderElectLeaseDuration: 15 * time.Second,
		LeaderElectRenewDeadline: 10 * time.Second,
		LeaderElectRetryPeriod:   2 * time.Second,
		MetricsBindAddress:       ":8080",
		ProfilingBindAddress:     ":6060",
		HealthProbeBindAddress:   ":10357",
		LogFormat:                "json",
		StatusWindow:             statuswork.DefaultWindow,
		StatusProgressInterval:   statuswork.DefaultProgressInterval,
		BulkDeleteThreshold:      deletion.DefaultThreshold,
		HeldDeleteGrace:          deletion.DefaultGrace,
		// Above the 2-minute bound of one reconcile, so that only workers
		// that ignore their deadline (a deadlock) fail liveness, with room
		// for a slow member where every worker waits out that bound.
		LivenessStallTimeout: 5 * time.Minute,
		HubReconnectMaxDelay: hubconn.DefaultMaxProbe,
		Rotation:             bootstrap.NewRotationOptions(),
		Credentials:          NewCredentialOptions(),
	}
}

// AddFlags binds the options to fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.KarmadaKubeconfig, "karmada-kubeconfig", o.KarmadaKubeconfig, "Path to the hub kubeconfig (the Secret karmada-kubeconfig mounted by register).")
	fs.StringVar(&o.KarmadaContext, "karmada-context", o.KarmadaContext, "Context of the hub kubeconfig to use (default: its current context).")
	fs.StringVar(&o.KarmadaKubeconfigNamespace, "karmada-kubeconfig-namespace", o.KarmadaKubeconfigNamespace,
		"Member namespace of the Secret karmada-kubeconfig, where certificate rotation writes the renewed hub kubeconfig. Without --karmada-kubeconfig, the hub kubeconfig is also read from that Secret.")
	fs.StringVar(&o.Kubeconfig, "kubeconfig", o.Kubeconfig, "Path to the member kubeconfig (default: in-cluster).")
	fs.StringVar(&o.ClusterName, "cluster-name", o.ClusterName, "Name of this member cluster on the hub.")
	fs.StringVar(&o.ClusterAPIEndpoint, "cluster-api-endpoint", o.ClusterAPIEndpoint, "The member apiserver URL reported in the Cluster's spec.apiEndpoint.")
	fs.StringVar(&o.ClusterProvider, "cluster-provider", o.ClusterProvider, "Cloud provider reported in spec.provider.")
	fs.StringVar(&o.ClusterRegion, "cluster-region", o.ClusterRegion, "Region reported in spec.region.")
	fs.StringSliceVar(&o.ClusterZones, "cluster-zones", o.ClusterZones, "Zones reported in spec.zones.")
	fs.StringVar(&o.ProxyServerAddress, "proxy-server-address", o.ProxyServerAddress, "Proxy the hub should use to reach the member (spec.proxyURL).")
	fs.DurationVar(&o.ClusterStatusUpdateFrequency, "cluster-status-update-frequency", o.ClusterStatusUpdateFrequency, "How often the cluster status is collected.")
	fs.DurationVar(&o.ClusterLeaseDuration, "cluster-lease-duration", o.ClusterLeaseDuration, "Duration of the heartbeat Lease on the hub.")
	fs.Float64Var(&o.ClusterLeaseRenewIntervalFraction, "cluster-lease-renew-interval-fraction", o.ClusterLeaseRenewIntervalFraction, "Fraction of the lease duration between renewals.")
	fs.DurationVar(&o.ClusterSuccessThreshold, "cluster-success-threshold", o.ClusterSuccessThreshold, "How long the member must be healthy before Ready turns True.")
	fs.DurationVar(&o.ClusterFailureThreshold, "cluster-failure-threshold", o.ClusterFailureThreshold, "How long the member must be unhealthy before Ready leaves True.")
	fs.DurationVar(&o.ClusterCacheSyncTimeout, "cluster-cache-sync-timeout", o.ClusterCacheSyncTimeout, "How long to wait for member caches to sync.")
	fs.Float32Var(&o.KubeAPIQPS, "kube-api-qps", o.KubeAPIQPS, "QPS of the hub client.")
	fs.IntVar(&o.KubeAPIBurst, "kube-api-burst", o.KubeAPIBurst, "Burst of the hub client.")
	fs.Float32Var(&o.ClusterAPIQPS, "cluster-api-qps", o.ClusterAPIQPS, "QPS of the member client.")
	fs.IntVar(&o.ClusterAPIBurst, "cluster-api-burst", o.ClusterAPIBurst, "Burst of the member client.")
	fs.IntVar(&o.ConcurrentWorkSyncs, "concurrent-work-syncs", o.ConcurrentWorkSyncs, "Works reconciled at once.")
	fs.StringSliceVar(&o.Controllers, "controllers", o.Controllers,
		"Controllers to run: '*' for all that are on by default, 'name' to enable one, '-name' to disable one; the first that names a controller decides. "+
			"Names: clusterStatus, execution, workStatus (one controller in Tether: enable or disable both), certRotation (off under '*': --controllers=*,certRotation; on when --controllers is not given), "+
			"serviceExport (reports exported Services' EndpointSlices to the hub) and endpointsliceCollect (the same for MultiClusterServices; off under '*').")
	fs.StringVar(&o.RenderOverrides, "render-overrides", o.RenderOverrides,
		"When to render OverridePolicies at the edge: Auto (Works Karmada's control plane wrote, which it renders itself or never overrides, are applied as is), Always or Never.")
	fs.StringVar(&o.DriftMode, "drift-mode", o.DriftMode,
		"What to do about a member-side change to an object Tether applied, for manifests without the annotation "+drift.ModeAnnotation+": "+
			"correct (repair it) or report (record it on the Work's status and leave it). A manifest chooses for itself with that annotation, "+
			"also ignore with the paths to leave alone in "+drift.IgnorePathsAnnotation+".")
	fs.BoolVar(&o.LeaderElect, "leader-elect", o.LeaderElect, "Elect a leader among agent replicas, with a Lease in the member cluster.")
	fs.StringVar(&o.LeaderElectResourceNS, "leader-elect-resource-namespace", o.LeaderElectResourceNS, "Member namespace of the leader-election Lease.")
	fs.DurationVar(&o.LeaderElectLeaseDuration, "leader-elect-lease-duration", o.LeaderElectLeaseDuration, "Leader-election lease duration.")
	fs.DurationVar(&o.LeaderElectRenewDeadline, "leader-elect-renew-deadline", o.LeaderElectRenewDeadline, "Leader-election renew deadline.")
	fs.DurationVar(&o.LeaderElectRetryPeriod, "leader-elect-retry-period", o.LeaderElectRetryPeriod, "Leader-election retry period.")
	fs.StringVar(&o.MetricsBindAddress, "metrics-bind-address", o.MetricsBindAddress, "Address of the Prometheus /metrics endpoint; '0' disables it.")
	fs.BoolVar(&o.EnablePprof, "enable-pprof", o.EnablePprof, "Serve Go profiling (net/http/pprof) on --profiling-bind-address.")
	fs.StringVar(&o.ProfilingBindAddress, "profiling-bind-address", o.ProfilingBindAddress, "Address of /debug/pprof when --enable-pprof is set.")
	fs.StringVar(&o.HealthProbeBindAddress, "health-probe-bind-address", o.HealthProbeBindAddress, "Address of /healthz and /readyz; '0' disables them.")
	fs.StringVar(&o.LogFormat, "log-format", o.LogFormat, "Log format: json, or console for people.")
	fs.IntVarP(&o.Verbosity, "v", "v", o.Verbosity, "Log verbosity (0 is quiet; 2 shows each apply; 4 is chatty).")
	fs.DurationVar(&o.StatusWindow, "work-status-window", o.StatusWindow, "Window over which changes of one Work's status are folded into one write.")
	fs.DurationVar(&o.StatusProgressInterval, "work-status-progress-interval", o.StatusProgressInterval,
		"A Work status change of reflected counters alone (a rollout's progress) is written at most this often per Work, and at least this soon; health and condition changes are written at once.")
	fs.DurationVar(&o.StatusProgressInterval, "work-status-rollout-interval", o.StatusProgressInterval, "Deprecated name of --work-status-progress-interval.")
	_ = fs.MarkDeprecated("work-status-rollout-interval", "use --work-status-progress-interval")
	fs.IntVar(&o.BulkDeleteThreshold, "bulk-delete-threshold", o.BulkDeleteThreshold,
		"Hold the member deletes of Works found already terminating on the first list of the hub after a start or a reconnect when they are more than this many and more than 10% of the cluster's Works; -1 never holds.")
	fs.DurationVar(&o.HeldDeleteGrace, "held-delete-grace", o.HeldDeleteGrace,
		"How long held deletes wait for 'tether-agent deletes confirm' before they proceed anyway; 0 waits for the confirmation.")
	fs.DurationVar(&o.LivenessStallTimeout, "liveness-stall-timeout", o.LivenessStallTimeout,
		"Fail /healthz when no Work reconcile has finished for this long while reconciles are under way (a wedged agent, which a restart clears); 0 disables it. Keep it above 2m, the bound of one reconcile.")
	fs.DurationVar(&o.HubReconnectMaxDelay, "hub-reconnect-max-delay", o.HubReconnectMaxDelay,
		"While the hub cannot be reached, hub requests wait and one readiness probe (GET /readyz) at a time asks whether it is back, after a random wait that doubles from 0.5s up to this bound. "+
			"A fleet that lost its hub together returns spread over about this long; raise it for thousands of clusters on one hub.")
	o.Rotation.AddFlags(fs)
	o.Credentials.addFlags(fs)
	if f := fs.Lookup("enable-cert-rotation"); f != nil {
		f.Usage += " Takes effect only when --controllers enables certRotation (--controllers=*,certRotation)."
	}
	o.addCompatFlags(fs)
}

// Validate checks the options and says which flag is wrong and how to fix it.
func (o *Options) Validate() error {
	if o.ClusterName == "" {
		return fmt.Errorf("--cluster-name is required: the name of this member on the hub")
	}
	if errs := validation.IsDNS1123Label(o.ClusterName); len(errs) > 0 || len(o.ClusterName) > clusterv1alpha1.MaxClusterNameLength {
		return fmt.Errorf("--cluster-name %q must be a DNS-1123 label of at most %d characters (%s)", o.ClusterName,
			clusterv1alpha1.MaxClusterNameLength, strings.Join(errs, "; "))
	}
	if o.KarmadaKubeconfig == "" && o.KarmadaKubeconfigNamespace == "" {
		return fmt.Errorf("--karmada-kubeconfig or --karmada-kubeconfig-namespace is required: the hub kubeconfig file, or the member namespace of the Secret karmada-kubeconfig that 'tether-agent register' writes")
	}
	if o.ClusterLeaseRenewIntervalFraction <= 0 || o.ClusterLeaseRenewIntervalFraction >= 1 {
		return fmt.Errorf("--cluster-lease-renew-interval-fraction must be between 0 and 1, got %v", o.ClusterLeaseRenewIntervalFraction)
	}
	if o.ClusterStatusUpdateFrequency <= 0 || o.ClusterLeaseDuration <= 0 {
		return fmt.Errorf("--cluster-status-update-frequency and --cluster-lease-duration must be positive")
	}
	if o.StatusProgressInterval <= 0 {
		return fmt.Errorf("--work-status-progress-interval must be positive, got %s", o.StatusProgressInterval)
	}
	if o.ConcurrentWorkSyncs <= 0 {
		return fmt.Errorf("--concurrent-work-syncs must be at least 1, got %d", o.ConcurrentWorkSyncs)
	}
	if o.HubReconnectMaxDelay < time.Second {
		return fmt.Errorf("--hub-reconnect-max-delay must be at least 1s, got %s", o.HubReconnectMaxDelay)
	}
	if o.LivenessStallTimeout < 0 {
		return fmt.Errorf("--liveness-stall-timeout must not be negative (0 disables the check), got %s", o.LivenessStallTimeout)
	}
	if _, err := override.ParseMode(o.RenderOverrides); err != nil {
		return fmt.Errorf("--render-overrides: %w", err)
	}
	if err := o.validateDriftMode(); err != nil {
		return err
	}
	if o.LogFormat != "json" && o.LogFormat != "console" {
		return fmt.Errorf("--log-format must be json or console, got %q", o.LogFormat)
	}
	if o.BulkDeleteThreshold < -1 {
		return fmt.Errorf("--bulk-delete-threshold must be -1 (never hold deletes) or more, got %d", o.BulkDeleteThreshold)
	}
	if o.HeldDeleteGrace < 0 {
		return fmt.Errorf("--held-delete-grace must not be negative (0 waits for 'tether-agent deletes confirm'), got %s", o.HeldDeleteGrace)
	}
	if err := o.validateControllers(); err != nil {
		return err
	}
	if err := o.Credentials.validate(); err != nil {
		return err
	}
	return o.Rotation.Validate()
}

// hubKubeconfigStore is where the hub kubeconfig is read from and where
// certificate rotation writes renewals: as karmada-agent, the
// --karmada-kubeconfig file, with renewals written to the Secret
// karmada-kubeconfig in --karmada-kubeconfig-namespace (to the file when
// there is no such Secret). Without --karmada-kubeconfig, that Secret is
// read too.
func (o *Options) hubKubeconfigStore(member kubernetes.Interface) bootstrap.Store {
	secret := bootstrap.NewSecretStore(member, o.KarmadaKubeconfigNamespace, bootstrap.KubeconfigSecretName, bootstrap.KubeconfigSecretKey)
	switch {
	case o.KarmadaKubeconfig == "":
		return secret
	case o.KarmadaKubeconfigNamespace == "":
		return bootstrap.NewFileStore(o.KarmadaKubeconfig)
	}
	return bootstrap.NewMountedStore(o.KarmadaKubeconfig, secret)
}

// validateDriftMode checks --drift-mode: ignore needs paths, which only a
// manifest can give, so it is no cluster-wide default.
func (o *Options) validateDriftMode() error {
	m, err := drift.ParseMode(o.DriftMode)
	if err != nil || m == drift.Ignore {
		return fmt.Errorf("--drift-mode must be %s or %s; to ignore paths, annotate the manifests with %s: %s and %s",
			drift.Correct, drift.Report, drift.ModeAnnotation, drift.Ignore, drift.IgnorePathsAnnotation)
	}
	return nil
}
