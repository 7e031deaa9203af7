package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/tether-io/tether/pkg/agent/leader"
	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/deletion"
	"github.com/tether-io/tether/pkg/drift"
	"github.com/tether-io/tether/pkg/execution"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/pkg/hubconn"
	"github.com/tether-io/tether/pkg/override"
	"github.com/tether-io/tether/pkg/status/cluster"
)

// clients are the long-lived client sets, built once. Those the controllers
// write with are behind the leader's write gate (with --leader-elect); the
// Lease and the kubeconfig Store use memberLease, which is not.
type clients struct {
	hubConfig    *rest.Config
	hubKarmada   versioned.Interface
	hubKube      kubernetes.Interface
	memberConfig *rest.Config
	memberKube   kubernetes.Interface
	memberLease  kubernetes.Interface
	hubGate      *hubconn.Gate // every hub client but the rotator's sends through it
}

// Run runs the agent until ctx ends. Every replica builds the clients and
// follows the certificate; only the leader (a Lease in the member) joins the
// hub and runs the controllers, so replicas never race on the hub. When ctx
// ends, the controllers' writes are refused, their reconciles cancelled,
// and then the Lease is released. Run returns an error when the Lease is
// lost or the controllers stop while ctx is live, so the process exits
// non-zero and restarts.
func Run(ctx context.Context, o *Options) error {
	log := klog.FromContext(ctx)
	tuneGC(log)
	reg := prometheus.NewRegistry()
	registerProcessMetrics(reg)
	health := newHealth()
	if err := serveAll(ctx, o, reg, health); err != nil {
		return err
	}
	gate := leader.NewGate(o.LeaderElectRenewDeadline)
	var leading atomic.Bool
	registerLeaderMetric(reg, leading.Load)
	c, rotator, err := buildClients(ctx, o, reg, gate, leading.Load)
	if err != nil {
		return err
	}
	// The rotation stops when Run returns, also when it returns early.
	rctx, stopRotation := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := rotator.Run(rctx); err != nil && rctx.Err() == nil {
			log.Error(err, "Certificate rotation stopped")
		}
	}()
	defer wg.Wait()
	defer stopRotation()
	health.setLive()

	lead := func(ctx context.Context) error {
		leading.Store(true)
		defer leading.Store(false)
		// karmada-agent's hub Lease, when it exists, keeps the two agents from acting at once.
		return leader.HubLock{Config: rotator.ClientConfig, Namespace: o.LeaderElectResourceNS, Cluster: o.ClusterName, Ready: health.addReady}.Run(ctx,
			func(ctx context.Context) error { return runControllers(ctx, o, c, reg, health) })
	}
	if !o.LeaderElect {
		err := lead(ctx)
		if ctx.Err() == nil && err == nil {
			err = errors.New("they returned no error")
		}
		if ctx.Err() == nil {
			return fmt.Errorf("the controllers stopped while the agent was running: %w", err)
		}
		return err
	}
	host, _ := os.Hostname()
	return leader.Run(ctx, leader.Config{Client: c.memberLease, Namespace: o.LeaderElectResourceNS, Name: leader.LeaseName(o.ClusterName),
		Identity: host + "_" + string(uuid.NewUUID()), LeaseDuration: o.LeaderElectLeaseDuration, RenewDeadline: o.LeaderElectRenewDeadline,
		RetryPeriod: o.LeaderElectRetryPeriod, Gate: gate}, lead)
}

func serveAll(ctx context.Context, o *Options, reg *prometheus.Registry, health *health) error {
	if err := serve(ctx, o.MetricsBindAddress, metricsHandler(reg)); err != nil {
		return err
	}
	if err := serve(ctx, o.HealthProbeBindAddress, health.handler()); err != nil {
		return err
	}
	if o.EnablePprof {
		return serve(ctx, o.ProfilingBindAddress, pprofHandler())
	}
	return nil
}

// buildClients builds the member and hub clients and the certificate
// rotator. With leader election, the controllers' clients send writes
// through gate; the rotator's CSR client and the kubeconfig Store do not
// (the rotator renews only while leading, and a standby must follow).
func buildClients(ctx context.Context, o *Options, reg prometheus.Registerer, gate *leader.Gate, leading func() bool) (*clients, *bootstrap.Rotator, error) {
	memberCfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return nil, nil, fmt.Errorf("member kubeconfig (--kubeconfig %q): %w", o.Kubeconfig, err)
	}
	memberCfg.QPS, memberCfg.Burst = o.ClusterAPIQPS, o.ClusterAPIBurst
	memberCfg.UserAgent = "tether-agent"
	c := &clients{memberConfig: rest.CopyConfig(memberCfg)}
	if c.memberLease, err = kubernetes.NewForConfig(memberCfg); err != nil {
		return nil, nil, err
	}
	store := o.hubKubeconfigStore(c.memberLease)
	o.Rotation.Enabled = o.Rotation.Enabled && o.enabled("certRotation")
	rotator, err := bootstrap.NewRotator(ctx, bootstrap.RotatorConfig{Store: store, Context: o.KarmadaContext,
		Options: o.Rotation, Registerer: reg, Leading: leading})
	if err != nil {
		return nil, nil, fmt.Errorf("hub credentials: %w", err)
	}
	if c.hubConfig, err = rotator.ClientConfig(); err != nil {
		return nil, nil, err
	}
	c.hubConfig.QPS, c.hubConfig.Burst, c.hubConfig.UserAgent = o.KubeAPIQPS, o.KubeAPIBurst, "tether-agent"
	if o.LeaderElect {
		c.hubConfig.Wrap(gate.Wrap)
		c.memberConfig.Wrap(gate.Wrap)
	}
	// Outside the leader gate: a write held while the hub is down is fenced
	// when it is sent, not when it was made.
	c.hubGate = newHubGate(c.hubConfig, o.HubReconnectMaxDelay, reg, klog.FromContext(ctx))
	c.hubConfig.Wrap(c.hubGate.Wrap)
	if c.memberKube, err = kubernetes.NewForConfig(c.memberConfig); err != nil {
		return nil, nil, err
	}
	if c.hubKarmada, err = versioned.NewForConfig(c.hubConfig); err != nil {
		return nil, nil, err
	}
	if c.hubKube, err = kubernetes.NewForConfig(c.hubConfig); err != nil {
		return nil, nil, err
	}
	return c, rotator, nil
}

// runControllers joins the hub (retrying until it succeeds) and runs what
// --controllers enables until ctx ends. Readiness fails until the join
// succeeded and the controllers are built.
func runControllers(ctx context.Context, o *Options, c *clients, reg prometheus.Registerer, health *health) error {
	log := klog.FromContext(ctx).WithValues("cluster", o.ClusterName)
	state := &joinState{}
	health.addReady("join", state.check)
	var access hubaccess.Set // what the hub identity may do, asked at each join attempt
	join, err := joinUntilDone(ctx, joinBackoff(), state, func(ctx context.Context) (*cluster.JoinResult, error) {
		var err error
		if access, err = hubaccess.ProbeIn(ctx, c.hubKube.AuthorizationV1(), o.ClusterName, o.Credentials.ClusterNamespace); err != nil {
			return nil, err
		}
		settings := cluster.Settings{Name: o.ClusterName, APIEndpoint: o.ClusterAPIEndpoint, Provider: o.ClusterProvider, Region: o.ClusterRegion,
			Zones: o.ClusterZones, ProxyURL: o.ProxyServerAddress}
		o.Credentials.secretRefs(&settings, access)
		return cluster.Join(ctx, cluster.JoinConfig{Hub: c.hubKarmada, Member: c.memberKube, Access: access, Settings: settings})
	})
	if err != nil {
		return nil // ctx ended
	}
	log.Info("Joined the hub", "created", join.Created, "id", join.Cluster.Spec.ID)
	report := assessAccess(ctx, o, access, join)
	runs, err := buildControllers(ctx, o, c, reg, health, join, access, report)
	if err != nil {
		return err
	}
	state.succeed()
	errs := make(chan error, len(runs))
	for _, run := range runs {
		go func() { errs <- run(ctx) }()
	}
	var all []error
	for range runs {
		if err := <-errs; err != nil {
			all = append(all, err)
		}
	}
	return errors.Join(all...)
}

// buildControllers builds the controllers --controllers enables and
// registers their probes. The hub identity's access picks the fallbacks;
// the report goes on the Cluster (clusterStatusRuns).
func buildControllers(ctx context.Context, o *Options, c *clients, reg prometheus.Registerer, health *health, join *cluster.JoinResult,
	access hubaccess.Set, report hubaccess.Report) ([]func(context.Context) error, error) {
	var runs []func(context.Context) error
	var guard *deletion.Guard
	// The agent's Cluster and its execution namespace's Works, each watched
	// once per process: the Work controller runs them and the others share them.
	var clusterInformer, workInformer cache.SharedIndexInformer
	if o.enabled("execution") || o.enabled("workStatus") {
		custom := newCustomizations(c, access)
		ctrl, err := newWorkController(o, c, reg, access, custom)
		if err != nil {
			return nil, err
		}
		runs = append(runs, custom.run(ctrl))
		guard, clusterInformer, workInformer = ctrl.DeletionGuard(), ctrl.ClusterInformer(), ctrl.WorkInformer()
		health.addReady("work-sync", func() error {
			if !ctrl.Synced() {
				return errors.New("the hub caches have not synced")
			}
			return nil
		})
		limit := o.LivenessStallTimeout
		health.addLive("work-sync", func() error {
			if ctrl.Stalled(time.Now(), limit) {
				return fmt.Errorf("no Work reconcile finished in %s while reconciles were under way (--liveness-stall-timeout)", limit)
			}
			return nil
		})
		runs = append(runs, ctrl.Run)
	}
	if o.enabled("clusterStatus") {
		status, err := clusterStatusRuns(ctx, o, c, reg, join, access, report, guard, clusterInformer)
		if err != nil {
			return nil, err
		}
		runs = append(runs, status...)
	}
	mcsRun, err := mcsRuns(ctx, o, c, workInformer)
	if err != nil {
		return nil, err
	}
	runs = append(runs, mcsRun...)
	creds, err := credentialsRun(ctx, o, c, join.Cluster, access)
	if err != nil {
		return nil, err
	}
	if creds != nil {
		runs = append(runs, creds)
	}
	if len(runs) == 0 { // nothing could start; the reason is logged and on the Cluster
		runs = append(runs, func(ctx context.Context) error { <-ctx.Done(); return nil })
	}
	return runs, nil
}

// clusterStatusRuns builds the heartbeat and the cluster status controller,
// which writes the report's condition and the guard's next to the status,
// and shares the Work controller's informer of the Cluster when it has one
// (nil: it watches the Cluster itself).
// When the status cannot be written at all, neither runs: a Lease renewed
// next to a status that goes stale would tell the control plane that the
// stale status is current. That is logged and posted in a Warning Event.
func clusterStatusRuns(ctx context.Context, o *Options, c *clients, reg prometheus.Registerer, join *cluster.JoinResult, access hubaccess.Set,
	report hubaccess.Report, guard *deletion.Guard, clusterInformer cache.SharedIndexInformer) ([]func(context.Context) error, error) {
	if !canReportStatus(access) {
		log := klog.FromContext(ctx)
		log.Error(nil, "The Cluster's status cannot be written, so neither it nor the heartbeat Lease is reported", "report", report.Message())
		if err := warnOnCluster(ctx, c.hubKube, join.Cluster, clusterv1alpha1.ReasonHubPermissionsMissing, report.Message()); err != nil {
			log.Error(err, "Posting the Warning Event failed")
		}
		return nil, nil
	}
	hb, err := cluster.NewHeartbeat(cluster.HeartbeatConfig{Hub: c.hubKube, Clusters: c.hubKarmada.ClusterV1alpha1().Clusters(),
		ClusterName: o.ClusterName, ClusterUID: join.Cluster.UID,
		LeaseDuration: o.ClusterLeaseDuration, RenewFraction: o.ClusterLeaseRenewIntervalFraction, Registerer: reg})
	if err != nil {
		return nil, err
	}
	cfg := cluster.StatusConfig{ClusterName: o.ClusterName, Hub: c.hubKarmada, Member: c.memberKube,
		Interval: o.ClusterStatusUpdateFrequency, SuccessThreshold: o.ClusterSuccessThreshold,
		FailureThreshold: o.ClusterFailureThreshold, CacheSyncTimeout: o.ClusterCacheSyncTimeout,
		UpdateStatus: !access.Has(hubaccess.ClusterStatusPatch), Cluster: clusterInformer}
	permissions := report.Condition() // HubPermissionsMissing
	cfg.ExtraConditions = func() []metav1.Condition { return []metav1.Condition{permissions} }
	if guard != nil { // DeletesHeld on the Cluster, written as soon as it changes
		cfg.ExtraConditions = func() []metav1.Condition { return []metav1.Condition{permissions, guard.Condition()} }
		cfg.Kick = guard.Changed()
	}
	sc, err := cluster.NewStatusController(cfg)
	if err != nil {
		return nil, err
	}
	return []func(context.Context) error{func(ctx context.Context) error { hb.Run(ctx); return nil }, sc.Run}, nil
}

func newWorkController(o *Options, c *clients, reg prometheus.Registerer, access hubaccess.Set, custom *customizations) (*execution.Controller, error) {
	dyn, err := dynamic.NewForConfig(c.memberConfig)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(c.memberConfig)
	if err != nil {
		return nil, err
	}
	quiet := rest.CopyConfig(c.memberConfig)
	quiet.WarningHandler = rest.NoWarnings{} // the orphan scan lists deprecated resources too
	md, err := metadata.NewForConfig(quiet)
	if err != nil {
		return nil, err
	}
	mode, _ := override.ParseMode(o.RenderOverrides)
	cfg := execution.Config{ClusterName: o.ClusterName, Hub: c.hubKarmada, MemberDynamic: dyn, MemberDiscovery: disc, MemberMetadata: md,
		Workers: o.ConcurrentWorkSyncs, RenderMode: mode, StatusWindow: o.StatusWindow, StatusProgressInterval: o.StatusProgressInterval,
		Guard: &deletion.Config{Threshold: o.BulkDeleteThreshold, Grace: o.HeldDeleteGrace}, Registerer: reg, Events: c.hubKube, Access: access,
		DriftMode: drift.Mode(o.DriftMode), HubOutages: c.hubGate.Outages}
	custom.wire(&cfg)
	return execution.New(cfg)
}
