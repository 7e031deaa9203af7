package register

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/util/validation"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/version"
)

// Hub types register knows how to join.
const (
	HubTypeAuto    = "auto"
	HubTypeKarmada = "karmada"
	HubTypeTether  = "tether"
)

// Options are register's flags (karmadactl register's names where it has
// one).
type Options struct {
	// Endpoint is the hub apiserver's host:port (the positional argument).
	Endpoint string

	Token                    string
	CACertHashes             []string
	UnsafeSkipCAVerification bool
	DiscoveryTimeout         time.Duration

	ClusterName        string
	Namespace          string
	ClusterNamespace   string
	ClusterProvider    string
	ClusterRegion      string
	ClusterZones       []string
	ProxyServerAddress string

	AgentImage            string
	AgentReplicas         int32
	CertExpirationSeconds int32
	EnableCertRotation    bool
	HubType               string
	DryRun                bool
	// SecretOnly obtains the certificate and writes the Secret
	// karmada-kubeconfig only: the agent's ServiceAccount, RBAC and
	// Deployment come from elsewhere (the Helm chart's bootstrap Job).
	SecretOnly bool
}

// NewOptions returns the defaults.
func NewOptions() *Options {
	return &Options{
		DiscoveryTimeout:      bootstrap.DefaultTimeout,
		Namespace:             clusterv1alpha1.AgentNamespace,
		ClusterNamespace:      clusterv1alpha1.DefaultClusterNamespace,
		AgentImage:            DefaultAgentImage(),
		AgentReplicas:         1,
		CertExpirationSeconds: int32(hub.DefaultMaxCertificateLifetime / time.Second), // the approver's cap: ask for it
		EnableCertRotation:    true,
		HubType:               HubTypeAuto,
	}
}

// ImageRepository is where the agent image is published ('make image-push');
// 'make build IMAGE_REPO=...' stamps another at link time (-X).
var ImageRepository = "ghcr.io/tether-io/tether-agent"

// DefaultAgentImage is <ImageRepository>:<version of this binary>, the image
// 'make image' builds from the same commit.
func DefaultAgentImage() string { return ImageRepository + ":" + version.Get().Version }

// AddFlags registers the flags on fs.
func (o *Options) AddFlags(fs *pflag.FlagSet) {
	fs.StringVar(&o.Token, "token", o.Token, "Bootstrap token from the hub ('tether-agent token create' on the hub prints it). Required.")
	fs.StringSliceVar(&o.CACertHashes, "discovery-token-ca-cert-hash", o.CACertHashes, "Pin of the hub's CA: sha256:<hex of its SubjectPublicKeyInfo>. Required unless --discovery-token-unsafe-skip-ca-verification.")
	fs.BoolVar(&o.UnsafeSkipCAVerification, "discovery-token-unsafe-skip-ca-verification", o.UnsafeSkipCAVerification, "Trust the hub's CA without a pin. Unsafe: anyone answering on the endpoint who knows the token can impersonate the hub.")
	fs.DurationVar(&o.DiscoveryTimeout, "discovery-timeout", o.DiscoveryTimeout, "How long to wait for cluster-info to be signed, for each certificate and for the agent rollout.")
	fs.StringVar(&o.ClusterName, "cluster-name", o.ClusterName, "Name of this member on the hub (default: the cluster name of the kubeconfig's current context).")
	fs.StringVarP(&o.Namespace, "namespace", "n", o.Namespace, "Member namespace of the agent's objects.")
	fs.StringVar(&o.ClusterNamespace, "cluster-namespace", o.ClusterNamespace, "Hub namespace of the credentials the agent reports.")
	fs.StringVar(&o.ClusterProvider, "cluster-provider", o.ClusterProvider, "Provider of the member cluster, reported on its Cluster.")
	fs.StringVar(&o.ClusterRegion, "cluster-region", o.ClusterRegion, "Region of the member cluster, reported on its Cluster.")
	fs.StringSliceVar(&o.ClusterZones, "cluster-zones", o.ClusterZones, "Zones of the member cluster, reported on its Cluster.")
	fs.StringVar(&o.ProxyServerAddress, "proxy-server-address", o.ProxyServerAddress, "Proxy the hub uses to reach the member, reported on its Cluster.")
	fs.StringVar(&o.AgentImage, "agent-image", o.AgentImage, "Image of the agent Deployment (the image 'make image' builds, published as <registry path>:<version>).")
	fs.Int32Var(&o.AgentReplicas, "agent-replicas", o.AgentReplicas, "Replicas of the agent Deployment.")
	fs.Int32Var(&o.CertExpirationSeconds, "cert-expiration-seconds", o.CertExpirationSeconds, "Lifetime to ask for the agent's certificate (at least 600).")
	fs.BoolVar(&o.EnableCertRotation, "enable-cert-rotation", o.EnableCertRotation, "Let the agent renew its certificate before it expires.")
	fs.StringVar(&o.HubType, "hub-type", o.HubType, "karmada (a Karmada control plane), tether (a hub prepared by 'tether-agent hub init'), or auto to detect it.")
	fs.BoolVar(&o.DryRun, "dry-run", o.DryRun, "Run the preflight checks and discovery, print what would be created, and create nothing.")
	fs.BoolVar(&o.SecretOnly, "kubeconfig-secret-only", o.SecretOnly,
		"Obtain the agent's certificate and write only the Secret karmada-kubeconfig into an existing --namespace: the agent's ServiceAccount, RBAC and Deployment "+
			"are installed by other means (the Helm chart's bootstrap Job runs register this way, in-cluster). Does nothing when that Secret exists.")
}

// Validate checks the options without contacting any cluster.
func (o *Options) Validate() error {
	d := o.discovery()
	errs := []error{d.Validate()}
	if o.ClusterName != "" {
		if err := hub.ValidateClusterName(o.ClusterName); err != nil {
			errs = append(errs, fmt.Errorf("--cluster-name: %w", err))
		}
	}
	for flag, ns := range map[string]string{"--namespace": o.Namespace, "--cluster-namespace": o.ClusterNamespace} {
		if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
			errs = append(errs, fmt.Errorf("%s=%q is not a namespace name: %v", flag, ns, msgs))
		}
	}
	if o.AgentImage == "" {
		errs = append(errs, errors.New("--agent-image must not be empty"))
	}
	if o.AgentReplicas < 1 {
		errs = append(errs, fmt.Errorf("--agent-replicas=%d must be at least 1", o.AgentReplicas))
	}
	if o.CertExpirationSeconds < bootstrap.MinExpirationSeconds {
		errs = append(errs, fmt.Errorf("--cert-expiration-seconds=%d must be at least %d (the apiserver's minimum)", o.CertExpirationSeconds, bootstrap.MinExpirationSeconds))
	}
	if o.DiscoveryTimeout <= 0 {
		errs = append(errs, fmt.Errorf("--discovery-timeout=%s must be positive", o.DiscoveryTimeout))
	}
	switch o.HubType {
	case HubTypeAuto, HubTypeKarmada, HubTypeTether:
	default:
		errs = append(errs, fmt.Errorf("--hub-type=%q must be auto, karmada or tether", o.HubType))
	}
	return errors.Join(errs...)
}

func (o *Options) discovery() bootstrap.Discovery {
	return bootstrap.Discovery{
		Endpoint: o.Endpoint, Token: o.Token, CACertHashes: o.CACertHashes,
		UnsafeSkipCAVerification: o.UnsafeSkipCAVerification, Timeout: o.DiscoveryTimeout,
		RetryInterval: min(5*time.Second, o.DiscoveryTimeout/4),
	}
}
