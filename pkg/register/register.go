package register

import (
	"context"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"time"

	"github.com/tether-io/tether/pkg/rollout"

	certificatesv1 "k8s.io/api/certificates/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
)

// Config wires a registration.
type Config struct {
	Options *Options
	// Member is the member cluster's client configuration (the operator's).
	Member *rest.Config
	// DefaultClusterName is used when Options.ClusterName is empty: the
	// cluster name of the member kubeconfig's current context.
	DefaultClusterName string
	// Out receives progress and instructions for the user.
	Out io.Writer
}

// registration is one run of Register.
type registration struct {
	Config
	opts    *Options
	cluster string
	member  kubernetes.Interface
	objs    *objects.Client
	agent   Agent
	info    *bootstrap.ClusterInfo
	hubType string
	undo    []undoStep
}

type undoStep struct {
	what string
	do   func(ctx context.Context) error
}

// Register joins the member to the hub: preflight, discovery, the hub
// RBAC (Karmada control plane) or its approval (Tether hub), the agent's
// certificate, the member objects and the rollout of the agent. On failure
// whatever it created is removed again, so it never half-registers.
func Register(ctx context.Context, cfg Config) (err error) {
	r, err := newRegistration(cfg)
	if err != nil {
		return err
	}
	start := time.Now()
	if r.opts.SecretOnly {
		if done, err := r.secretExists(ctx); err != nil || done {
			return err
		}
	}
	if err := r.preflight(ctx); err != nil {
		return err
	}
	r.printf("[preflight] member cluster %s is ready to register as %q\n", r.Member.Host, r.cluster)
	if r.info, err = bootstrap.Discover(ctx, r.opts.discovery()); err != nil {
		return fmt.Errorf("discovery of the hub at %s: %w", r.opts.Endpoint, err)
	}
	if err := r.detectHubType(ctx); err != nil {
		return err
	}
	r.printf("[discovery] hub %s verified (%s hub)\n", r.info.Server, r.hubType)
	if r.opts.DryRun {
		return r.printPlan(ctx)
	}
	defer func() {
		if err != nil {
			err = r.rollback(ctx, err)
		}
	}()
	boot, err := kubernetes.NewForConfig(r.info.BootstrapConfig(r.opts.Token))
	if err != nil {
		return err
	}
	if r.hubType == HubTypeKarmada {
		if err := r.createHubRBAC(ctx, boot); err != nil {
			return err
		}
	}
	kubeconfig, err := r.agentCertificate(ctx, boot)
	if err != nil {
		return err
	}
	if err := r.createMemberObjects(ctx, kubeconfig); err != nil {
		return err
	}
	if r.opts.SecretOnly {
		r.printf("cluster(%s) has its hub kubeconfig in Secret %s/%s (%s); the agent Deployment is not register's to roll out\n",
			r.cluster, r.agent.Namespace, bootstrap.KubeconfigSecretName, time.Since(start).Round(100*time.Millisecond))
		return nil
	}
	if err := rollout.Wait(ctx, r.member, r.agent.Namespace, AgentName, r.opts.DiscoveryTimeout); err != nil {
		return err
	}
	r.printf("cluster(%s) is joined successfully in %s\n", r.cluster, time.Since(start).Round(100*time.Millisecond))
	return nil
}

func newRegistration(cfg Config) (*registration, error) {
	if cfg.Options == nil || cfg.Member == nil {
		return nil, fmt.Errorf("register: Options and Member are required")
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	opts := cfg.Options
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	cluster := opts.ClusterName
	if cluster == "" {
		cluster = cfg.DefaultClusterName
		if err := hub.ValidateClusterName(cluster); err != nil {
			return nil, fmt.Errorf("the member kubeconfig's cluster name cannot name this member on the hub (%w): pass --cluster-name", err)
		}
	}
	member, err := kubernetes.NewForConfig(cfg.Member)
	if err != nil {
		return nil, err
	}
	objs, err := objects.NewClient(cfg.Member)
	if err != nil {
		return nil, err
	}
	agent := Agent{
		Cluster: cluster, Namespace: opts.Namespace, ClusterNamespace: opts.ClusterNamespace, LeaderElectNamespace: opts.Namespace,
		APIEndpoint: cfg.Member.Host, Provider: opts.ClusterProvider, Region: opts.ClusterRegion, Zones: opts.ClusterZones,
		ProxyServerAddress: opts.ProxyServerAddress, Image: opts.AgentImage, Replicas: opts.AgentReplicas, CertRotation: opts.EnableCertRotation,
	}
	return &registration{Config: cfg, opts: opts, cluster: cluster, member: member, objs: objs, agent: agent}, nil
}

func (r *registration) printf(format string, args ...any) { fmt.Fprintf(r.Out, format, args...) }

// detectHubType reads kube-public/tether-hub-info anonymously: present on
// a hub prepared by 'tether-agent hub init', absent on a Karmada control
// plane.
func (r *registration) detectHubType(ctx context.Context) error {
	r.hubType = r.opts.HubType
	anon, err := kubernetes.NewForConfig(r.info.AnonymousConfig())
	if err != nil {
		return err
	}
	_, err = anon.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, hub.HubInfoConfigMap, metav1.GetOptions{})
	switch {
	case err == nil:
		if r.hubType == HubTypeAuto {
			r.hubType = HubTypeTether
		}
	case apierrors.IsNotFound(err) || apierrors.IsForbidden(err) || apierrors.IsUnauthorized(err):
		if r.hubType == HubTypeAuto {
			r.hubType = HubTypeKarmada
		}
	default:
		return fmt.Errorf("read kube-public/%s from the hub: %w", hub.HubInfoConfigMap, err)
	}
	return nil
}

func (r *registration) access() hub.ClusterAccess {
	return hub.ClusterAccess{Cluster: r.cluster, ClusterNamespace: r.agent.ClusterNamespace}
}

// agentCertificate obtains the agent's certificate with the bootstrap
// token and returns its hub kubeconfig.
func (r *registration) agentCertificate(ctx context.Context, boot kubernetes.Interface) ([]byte, error) {
	pending, certPEM, err := r.requestCertificate(ctx, boot, r.cluster+"-", bootstrap.AgentSubject(r.cluster), r.opts.CertExpirationSeconds)
	if err != nil {
		return nil, err
	}
	keyPEM := pending.KeyPEM
	kubeconfig, err := clientcmd.Write(*r.info.AgentKubeconfig(r.cluster, certPEM, keyPEM))
	if err != nil {
		return nil, err
	}
	if r.hubType == HubTypeTether {
		if err := r.checkGranted(ctx, r.info.CertConfig(certPEM, keyPEM)); err != nil {
			return nil, err
		}
	}
	r.printf("[certificate] issued for %s\n", bootstrap.AgentSubject(r.cluster).CommonName)
	return kubeconfig, nil
}

// requestCertificate submits a CSR with the bootstrap client and waits for
// it, telling the user what to approve while it is pending.
func (r *registration) requestCertificate(ctx context.Context, boot kubernetes.Interface, prefix string, subject pkix.Name, secs int32) (*bootstrap.PendingCertificate, []byte, error) {
	pending, err := bootstrap.SubmitCSR(ctx, boot, bootstrap.CertificateRequest{
		GenerateName: prefix, Subject: subject, ExpirationSeconds: secs,
		Labels: map[string]string{workv1alpha1.SystemLabel: "true", bootstrap.ClusterLabel: r.cluster},
	})
	if err != nil {
		return nil, nil, err
	}
	wait := bootstrap.WaitOptions{
		Timeout: r.opts.DiscoveryTimeout,
		Pending: func(csr *certificatesv1.CertificateSigningRequest) { r.printPending(csr.Name, subject.CommonName) },
	}
	if r.hubType == HubTypeTether {
		wait.ApproveCommand = "tether-agent hub approve " + pending.Name + " --kubeconfig <hub admin kubeconfig>"
	}
	certPEM, err := bootstrap.WaitForCertificate(ctx, boot, pending, wait)
	if err != nil {
		return nil, nil, err
	}
	return pending, certPEM, nil
}

func (r *registration) printPending(name, cn string) {
	if r.hubType == HubTypeTether {
		r.printf("[certificate] CertificateSigningRequest %s (CN %s) is waiting for approval.\n"+
			"  Tether's approver approves it when it runs on the hub ('tether-agent hub approver'). Otherwise a hub administrator\n"+
			"  approves it and creates the cluster's RBAC with:\n      tether-agent hub approve %s --kubeconfig <hub admin kubeconfig>\n"+
			"  ('kubectl certificate approve %s' alone issues the certificate but grants the cluster nothing on this hub.)\n", name, cn, name, name)
		return
	}
	r.printf("[certificate] CertificateSigningRequest %s (CN %s) is waiting for approval.\n"+
		"  A Karmada control plane approves it automatically (karmada-controller-manager's agentcsrapproving controller).\n"+
		"  If it does not, a hub administrator approves it with:\n      kubectl certificate approve %s\n", name, cn, name)
	if cn == clusterv1alpha1.AgentUser(hub.RBACGeneratorCluster) {
		r.printf("  Note: a Karmada control plane binds this identity to a cluster-admin role. register asks for it for %d seconds only,\n"+
			"  to create cluster %s's RBAC, and deletes the request afterwards.\n", bootstrap.MinExpirationSeconds, r.cluster)
	}
}

// createMemberObjects creates the agent's namespace (when missing), its
// kubeconfig Secret, ServiceAccount, RBAC and Deployment.
func (r *registration) createMemberObjects(ctx context.Context, kubeconfig []byte) error {
	if r.opts.SecretOnly {
		secret := r.agent.KubeconfigSecret(kubeconfig)
		r.onFailure("member "+objects.Ref(secret), r.deleter(r.objs, secret))
		if err := r.objs.Apply(ctx, secret); err != nil {
			return err
		}
		r.printf("[member] created the agent's Secret %s in namespace %s\n", bootstrap.KubeconfigSecretName, r.agent.Namespace)
		return nil
	}
	ns := r.agent.NamespaceObject()
	live, err := r.objs.Get(ctx, ns)
	if err != nil {
		return err
	}
	if live == nil {
		if err := r.objs.Apply(ctx, ns); err != nil {
			return err
		}
		r.onFailure("member "+objects.Ref(ns), r.deleter(r.objs, ns))
	}
	objs := r.agent.Objects(kubeconfig)
	r.onFailure("member agent objects", r.deleter(r.objs, objs...))
	if err := r.objs.Apply(ctx, objs...); err != nil {
		return err
	}
	r.printf("[member] created the agent's Secret, ServiceAccount, RBAC and Deployment in namespace %s\n", r.agent.Namespace)
	return nil
}

// memberObjects are the member objects register writes, kubeconfig in
// the Secret: only that Secret with --kubeconfig-secret-only.
func (r *registration) memberObjects(kubeconfig []byte) []runtime.Object {
	if r.opts.SecretOnly {
		return []runtime.Object{r.agent.KubeconfigSecret(kubeconfig)}
	}
	return r.agent.Objects(kubeconfig)
}

// secretExists reports, with --kubeconfig-secret-only, that the agent's
// Secret exists: the member is registered already (a Job run again on an
// upgrade), and there is nothing to do.
func (r *registration) secretExists(ctx context.Context) (bool, error) {
	secret := r.agent.KubeconfigSecret(nil)
	live, err := r.objs.Get(ctx, secret)
	if err != nil {
		return false, fmt.Errorf("--kubeconfig-secret-only: %w", err)
	}
	if live != nil {
		r.printf("%s exists: cluster(%s) is registered already, nothing to do (delete the Secret to register again)\n", objects.Ref(secret), r.cluster)
	}
	return live != nil, nil
}

func (r *registration) onFailure(what string, do func(context.Context) error) {
	r.undo = append(r.undo, undoStep{what: what, do: do})
}

func (r *registration) deleter(c *objects.Client, objs ...runtime.Object) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.Delete(ctx, objs...)
		return err
	}
}

// rollback removes what the failed registration created, newest first.
func (r *registration) rollback(ctx context.Context, cause error) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	logger := klog.FromContext(ctx)
	for i := len(r.undo) - 1; i >= 0; i-- {
		step := r.undo[i]
		if err := step.do(ctx); err != nil {
			logger.Error(err, "Rolling back failed: remove it with 'tether-agent unregister'", "what", step.what)
			cause = fmt.Errorf("%w (and removing %s failed: %v)", cause, step.what, err)
			continue
		}
		r.printf("[rollback] removed %s\n", step.what)
	}
	if r.hubType == HubTypeTether && len(r.undo) > 0 {
		r.printf("[rollback] the hub keeps the RBAC its approver created for %s, claimed by this token: re-run register with the same token, "+
			"or remove it with 'tether-agent unregister %s --karmada-config <hub admin kubeconfig>'\n", r.cluster, r.cluster)
	}
	return cause
}
