package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
	"k8s.io/apimachinery/pkg/util/uuid"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/leaderelection"
	"k8s.io/client-go/tools/leaderelection/resourcelock"
	"k8s.io/klog/v2"

	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/override"
	"github.com/tether-io/tether/pkg/status/cluster"
	tsync "github.com/tether-io/tether/pkg/sync"
)

// clients are the two long-lived client sets, built once.
type clients struct {
	hubConfig    *rest.Config
	hubKarmada   versioned.Interface
	hubKube      kubernetes.Interface
	memberConfig *rest.Config
	memberKube   kubernetes.Interface
}

// Run runs the agent until ctx ends. Every replica builds the clients and
// follows the certificate; only the leader (a Lease in the member) joins the
// hub and runs the controllers, so replicas never race on the hub. When ctx
// ends, Work reconciles in flight finish before Run returns.
func Run(ctx context.Context, o *Options) error {
	log := klog.FromContext(ctx)
	tuneGC(log)
	reg := prometheus.NewRegistry()
	registerProcessMetrics(reg)
	health := newHealth()
	if err := serve(ctx, o.MetricsBindAddress, metricsHandler(reg)); err != nil {
		return err
	}
	if err := serve(ctx, o.HealthProbeBindAddress, health.handler()); err != nil {
		return err
	}
	if o.EnablePprof {
		if err := serve(ctx, o.ProfilingBindAddress, pprofHandler()); err != nil {
			return err
		}
	}

	memberCfg, err := clientcmd.BuildConfigFromFlags("", o.Kubeconfig)
	if err != nil {
		return fmt.Errorf("member kubeconfig (--kubeconfig %q): %w", o.Kubeconfig, err)
	}
	memberCfg.QPS, memberCfg.Burst = o.ClusterAPIQPS, o.ClusterAPIBurst
	memberCfg.UserAgent = "tether-agent"
	c := &clients{memberConfig: memberCfg}
	if c.memberKube, err = kubernetes.NewForConfig(memberCfg); err != nil {
		return err
	}
	var store bootstrap.Store = bootstrap.NewFileStore(o.KarmadaKubeconfig)
	if o.KarmadaKubeconfigNamespace != "" {
		store = bootstrap.NewSecretStore(c.memberKube, o.KarmadaKubeconfigNamespace, bootstrap.KubeconfigSecretName, bootstrap.KubeconfigSecretName)
	}
	o.Rotation.Enabled = o.Rotation.Enabled && o.enabled("certRotation")
	var leading atomic.Bool
	rotator, err := bootstrap.NewRotator(ctx, bootstrap.RotatorConfig{Store: store, Context: o.KarmadaContext,
		Options: o.Rotation, Registerer: reg, Leading: leading.Load})
	if err != nil {
		return fmt.Errorf("hub credentials: %w", err)
	}
	if c.hubConfig, err = rotator.ClientConfig(); err != nil {
		return err
	}
	c.hubConfig.QPS, c.hubConfig.Burst, c.hubConfig.UserAgent = o.KubeAPIQPS, o.KubeAPIBurst, "tether-agent"
	if c.hubKarmada, err = versioned.NewForConfig(c.hubConfig); err != nil {
		return err
	}
	if c.hubKube, err = kubernetes.NewForConfig(c.hubConfig); err != nil {
		return err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := rotator.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error(err, "Certificate rotation stopped")
		}
	}()
	defer wg.Wait()
	health.setLive()

	lead := func(ctx context.Context) error {
		leading.Store(true)
		defer leading.Store(false)
		return runControllers(ctx, o, c, reg, health)
	}
	if !o.LeaderElect {
		return lead(ctx)
	}
	return elect(ctx, o, c, lead)
}

// elect runs lead while this replica holds the member Lease. Losing the
// Lease while ctx is still live ends Run with an error, so the process
// restarts rather than risk two leaders.
func elect(ctx context.Context, o *Options, c *clients, lead func(context.Context) error) error {
	log := klog.FromContext(ctx)
	host, _ := os.Hostname()
	id := host + "_" + string(uuid.NewUUID())
	lock, err := resourcelock.New(resourcelock.LeasesResourceLock, o.LeaderElectResourceNS, "karmada-agent-"+o.ClusterName,
		c.memberKube.CoreV1(), c.memberKube.CoordinationV1(), resourcelock.ResourceLockConfig{Identity: id})
	if err != nil {
		return err
	}
	var leadErr error
	done := make(chan struct{})
	started := false
	leaderelection.RunOrDie(ctx, leaderelection.LeaderElectionConfig{
		Lock: lock, LeaseDuration: o.LeaderElectLeaseDuration, RenewDeadline: o.LeaderElectRenewDeadline,
		RetryPeriod: o.LeaderElectRetryPeriod, ReleaseOnCancel: true, Name: "tether-agent",
		Callbacks: leaderelection.LeaderCallbacks{
			OnStartedLeading: func(ctx context.Context) {
				started = true
				log.Info("Became the leader", "identity", id)
				leadErr = lead(ctx)
				close(done)
			},
			OnStoppedLeading: func() { log.Info("Stopped leading", "identity", id) },
		},
	})
	if started {
		<-done // in-flight work finishes before the process exits
	}
	if ctx.Err() == nil {
		return errors.Join(errors.New("lost the leader election lease; exiting so that a single leader acts"), leadErr)
	}
	return leadErr
}

// runControllers joins the hub and runs what --controllers enables until ctx ends.
func runControllers(ctx context.Context, o *Options, c *clients, reg prometheus.Registerer, health *health) error {
	log := klog.FromContext(ctx).WithValues("cluster", o.ClusterName)
	join, err := cluster.Join(ctx, cluster.JoinConfig{Hub: c.hubKarmada, Member: c.memberKube, Settings: cluster.Settings{
		Name: o.ClusterName, APIEndpoint: o.ClusterAPIEndpoint, Provider: o.ClusterProvider, Region: o.ClusterRegion,
		Zones: o.ClusterZones, ProxyURL: o.ProxyServerAddress}})
	if err != nil {
		return fmt.Errorf("join the hub as cluster %s: %w", o.ClusterName, err)
	}
	log.Info("Joined the hub", "created", join.Created, "id", join.Cluster.Spec.ID)
	var runs []func(context.Context) error
	if o.enabled("clusterStatus") {
		hb, err := cluster.NewHeartbeat(cluster.HeartbeatConfig{Hub: c.hubKube, ClusterName: o.ClusterName, ClusterUID: join.Cluster.UID,
			LeaseDuration: o.ClusterLeaseDuration, RenewFraction: o.ClusterLeaseRenewIntervalFraction})
		if err != nil {
			return err
		}
		sc, err := cluster.NewStatusController(cluster.StatusConfig{ClusterName: o.ClusterName, Hub: c.hubKarmada, Member: c.memberKube,
			Interval: o.ClusterStatusUpdateFrequency, SuccessThreshold: o.ClusterSuccessThreshold,
			FailureThreshold: o.ClusterFailureThreshold, CacheSyncTimeout: o.ClusterCacheSyncTimeout})
		if err != nil {
			return err
		}
		runs = append(runs, func(ctx context.Context) error { hb.Run(ctx); return nil }, sc.Run)
	}
	if o.enabled("execution") || o.enabled("workStatus") {
		dyn, err := dynamic.NewForConfig(c.memberConfig)
		if err != nil {
			return err
		}
		disc, err := discovery.NewDiscoveryClientForConfig(c.memberConfig)
		if err != nil {
			return err
		}
		quiet := rest.CopyConfig(c.memberConfig)
		quiet.WarningHandler = rest.NoWarnings{} // the orphan scan lists deprecated resources too
		md, err := metadata.NewForConfig(quiet)
		if err != nil {
			return err
		}
		mode, _ := override.ParseMode(o.RenderOverrides)
		ctrl, err := tsync.New(tsync.Config{ClusterName: o.ClusterName, Hub: c.hubKarmada, MemberDynamic: dyn, MemberDiscovery: disc, MemberMetadata: md,
			Workers: o.ConcurrentWorkSyncs, RenderMode: mode, StatusWindow: o.StatusWindow, StatusRolloutInterval: o.StatusRolloutInterval,
			Registerer: reg, Events: c.hubKube})
		if err != nil {
			return err
		}
		health.addReady("work-sync", ctrl.Synced)
		runs = append(runs, ctrl.Run)
	}
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
