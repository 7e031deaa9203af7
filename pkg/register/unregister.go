package register

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"
	"sync"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tether-io/tether/pkg/agent/leader"
	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/credentials"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
	"github.com/tether-io/tether/pkg/release"
)

// UnregisterOptions are unregister's flags (karmadactl unregister's names).
type UnregisterOptions struct {
	Cluster          string
	Namespace        string
	ClusterNamespace string
	// AgentName is the agent Deployment in Namespace whose arguments and
	// mounted kubeconfig Secret unregister reads (karmadactl's --agent-name).
	AgentName string
	Wait      time.Duration
	DryRun    bool
}

// NewUnregisterOptions returns the defaults.
func NewUnregisterOptions() *UnregisterOptions {
	return &UnregisterOptions{Namespace: clusterv1alpha1.AgentNamespace, ClusterNamespace: clusterv1alpha1.DefaultClusterNamespace, AgentName: AgentName, Wait: time.Minute}
}

// Validate checks the options.
func (o *UnregisterOptions) Validate() error {
	var errs []error
	if err := hub.ValidateClusterName(o.Cluster); err != nil {
		errs = append(errs, err)
	}
	if o.Wait <= 0 {
		errs = append(errs, fmt.Errorf("--wait=%s must be positive", o.Wait))
	}
	if o.Namespace == "" || o.ClusterNamespace == "" || o.AgentName == "" {
		errs = append(errs, errors.New("--namespace, --cluster-namespace and --agent-name must not be empty"))
	}
	return errors.Join(errs...)
}

// UnregisterConfig wires an unregistration.
type UnregisterConfig struct {
	Options *UnregisterOptions
	// Member is the member cluster (operator's credentials).
	Member *rest.Config
	// Hub is the hub with admin credentials; nil acts with the agent's own
	// identity from the member Secret, which cannot delete the hub RBAC.
	Hub *rest.Config
	Out io.Writer
}

type unregistration struct {
	UnregisterConfig
	opts       *UnregisterOptions
	member     kubernetes.Interface
	memberObjs *objects.Client
	hubCfg     *rest.Config
	hubAdmin   bool
	release    *release.Releaser
	outMu      sync.Mutex
	agent      Agent
	// hubSecret is where the agent's hub kubeconfig is, as its Deployment
	// mounts it (register's Secret when the Deployment is gone).
	hubSecret agentKubeconfig
}

// agentKubeconfig locates the agent's hub kubeconfig in the member.
type agentKubeconfig struct{ secret, key, context string }

// Unregister removes the cluster from the hub and the agent from the
// member: the cluster's Works (the running agent deletes their member
// objects; when it is gone unregister deletes them itself), the Cluster,
// the cluster's hub RBAC, Leases, CSRs and execution namespace (with hub
// admin credentials), and every member object register or the agent
// created. It is idempotent: what is already gone is skipped.
func Unregister(ctx context.Context, cfg UnregisterConfig) error {
	u, err := newUnregistration(ctx, cfg)
	if err != nil {
		return err
	}
	if u.opts.DryRun {
		return u.printPlan(ctx)
	}
	var karmada versioned.Interface
	if u.hubCfg == nil {
		u.printf("[hub] no hub credentials (no --karmada-config and no agent kubeconfig Secret): the hub side of %s is left as is\n", u.opts.Cluster)
	} else {
		// Works first: a running agent needs its Deployment to drain them.
		if karmada, err = versioned.NewForConfig(u.hubCfg); err != nil {
			return err
		}
		if err := u.deleteWorks(ctx, karmada); err != nil {
			return err
		}
	}
	// The rest of the hub side and the member side are independent.
	hubErr := make(chan error, 1)
	go func() {
		if karmada == nil {
			hubErr <- nil
			return
		}
		hubErr <- u.cleanHub(ctx, karmada)
	}()
	errs := []error{u.cleanMember(ctx), <-hubErr}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	u.printf("cluster(%s) is unregistered\n", u.opts.Cluster)
	return nil
}

func newUnregistration(ctx context.Context, cfg UnregisterConfig) (*unregistration, error) {
	if cfg.Options == nil || cfg.Member == nil {
		return nil, errors.New("unregister: Options and Member are required")
	}
	if err := cfg.Options.Validate(); err != nil {
		return nil, err
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	u := &unregistration{UnregisterConfig: cfg, opts: cfg.Options, hubCfg: cfg.Hub, hubAdmin: cfg.Hub != nil}
	var err error
	if u.member, err = kubernetes.NewForConfig(cfg.Member); err != nil {
		return nil, err
	}
	if u.memberObjs, err = objects.NewClient(cfg.Member); err != nil {
		return nil, err
	}
	u.agent = Agent{Cluster: u.opts.Cluster, Namespace: u.opts.Namespace, ClusterNamespace: u.opts.ClusterNamespace, LeaderElectNamespace: u.opts.Namespace}
	u.readDeploymentArgs(ctx)
	if u.hubCfg == nil {
		u.hubCfg = u.agentHubConfig(ctx)
	}
	return u, nil
}

func (u *unregistration) printf(format string, args ...any) {
	u.outMu.Lock()
	defer u.outMu.Unlock()
	fmt.Fprintf(u.Out, format, args...)
}

// readDeploymentArgs takes the namespaces the agent was registered with,
// and where its hub kubeconfig is, from its Deployment when it still
// exists: the Secret mounted where --karmada-kubeconfig points, as
// karmadactl unregister finds it.
func (u *unregistration) readDeploymentArgs(ctx context.Context) {
	u.hubSecret = agentKubeconfig{secret: bootstrap.KubeconfigSecretName, key: bootstrap.KubeconfigSecretKey}
	d, err := u.member.AppsV1().Deployments(u.opts.Namespace).Get(ctx, u.opts.AgentName, metav1.GetOptions{})
	if err != nil || len(d.Spec.Template.Spec.Containers) == 0 {
		return
	}
	c := d.Spec.Template.Spec.Containers[0]
	kubeconfigPath := ""
	for _, arg := range append(append([]string{}, c.Command...), c.Args...) {
		name, value, _ := strings.Cut(arg, "=")
		switch name {
		case "--leader-elect-resource-namespace":
			u.agent.LeaderElectNamespace = value // a member namespace
		case "--cluster-namespace":
			u.agent.ClusterNamespace = value
		case "--karmada-kubeconfig":
			kubeconfigPath = value
		case "--karmada-context":
			u.hubSecret.context = value
		}
	}
	if secret := mountedSecret(d.Spec.Template.Spec, c, path.Dir(kubeconfigPath)); kubeconfigPath != "" && secret != "" {
		u.hubSecret.secret, u.hubSecret.key = secret, path.Base(kubeconfigPath)
	}
}

// mountedSecret is the Secret that container c mounts at dir, or "".
func mountedSecret(pod corev1.PodSpec, c corev1.Container, dir string) string {
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) != dir {
			continue
		}
		for _, v := range pod.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				return v.Secret.SecretName
			}
		}
	}
	return ""
}

// agentHubConfig is the agent's own hub identity, from its Secret.
func (u *unregistration) agentHubConfig(ctx context.Context) *rest.Config {
	store := bootstrap.NewSecretStore(u.member, u.opts.Namespace, u.hubSecret.secret, u.hubSecret.key)
	kc, err := bootstrap.LoadHubKubeconfig(ctx, store, u.hubSecret.context)
	if err != nil {
		return nil
	}
	cfg, err := kc.RESTConfig()
	if err != nil {
		return nil
	}
	u.printf("[hub] acting with the agent's own identity %s (pass --karmada-config with hub admin credentials to also remove the hub RBAC)\n",
		kc.Certificate().Leaf.Subject.CommonName)
	return cfg
}

// memberObjects are every member object of the registration and of the
// agent's credential reporting, in creation order.
func (u *unregistration) memberObjects() []runtime.Object {
	c, cns := u.opts.Cluster, u.agent.ClusterNamespace
	sa := func(ns, name string) runtime.Object {
		return &corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"}, ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	}
	secret := func(ns, name string) runtime.Object {
		return &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
	}
	rbac := metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String()}
	cr, crb := rbac, rbac
	cr.Kind, crb.Kind = "ClusterRole", "ClusterRoleBinding"
	// The ServiceAccounts of --report-secrets, and the token Secrets that
	// karmada-agent (not Tether, which uses TokenRequests) created for them.
	credName, credSA, impSA := credentials.ClusterRoleName(c), credentials.ServiceAccountName(c), credentials.ImpersonatorServiceAccount
	out := []runtime.Object{
		sa(cns, credSA), secret(cns, credSA), sa(cns, impSA), secret(cns, impSA),
		&rbacv1.ClusterRole{TypeMeta: cr, ObjectMeta: metav1.ObjectMeta{Name: credName}},
		&rbacv1.ClusterRoleBinding{TypeMeta: crb, ObjectMeta: metav1.ObjectMeta{Name: credName}},
	}
	// The agent's leader-election Lease, in case its namespace stays.
	out = append(out, leaseObject(u.agent.LeaderElectNamespace, leader.LeaseName(c)))
	return append(out, u.agent.Objects(nil)...)
}

func leaseObject(ns, name string) runtime.Object {
	return &coordinationv1.Lease{TypeMeta: metav1.TypeMeta{APIVersion: coordinationv1.SchemeGroupVersion.String(), Kind: "Lease"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}}
}

// memberNamespaces are the member namespaces to delete: only those
// labelled as created by register or the agent.
func (u *unregistration) memberNamespaces(ctx context.Context) ([]runtime.Object, error) {
	var out []runtime.Object
	for _, name := range []string{u.agent.ClusterNamespace, u.opts.Namespace} {
		ns, err := u.member.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read member Namespace %s: %w", name, err)
		}
		if ns.Labels[workv1alpha1.SystemLabel] == "true" {
			out = append(out, hub.Namespace(name, nil))
		}
	}
	return out, nil
}

func (u *unregistration) cleanMember(ctx context.Context) error {
	namespaces, err := u.memberNamespaces(ctx)
	if err != nil {
		return err
	}
	all := append(namespaces, u.memberObjects()...)
	deleted, err := u.memberObjs.Delete(ctx, all...)
	for _, d := range deleted {
		u.printf("[member] deleted %s\n", objects.Ref(d))
	}
	if err != nil {
		return err
	}
	return u.memberObjs.WaitGone(ctx, u.opts.Wait, all...)
}

// hubObjects are the cluster's hub objects besides Works and the Cluster:
// those only an administrator may delete, and the Leases the agent may.
func (u *unregistration) hubObjects() (adminOnly, leases []runtime.Object) {
	c := u.opts.Cluster
	secret := func(name string) runtime.Object {
		return &corev1.Secret{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"}, ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: u.agent.ClusterNamespace}}
	}
	access := hub.ClusterAccess{Cluster: c, ClusterNamespace: u.agent.ClusterNamespace}
	adminOnly = append(append(access.Objects(), access.LegacyObjects()...), secret(c), secret(c+"-impersonator"))
	leases = []runtime.Object{leaseObject(clusterv1alpha1.LeaseNamespace, c)}
	return adminOnly, leases
}

// cleanHub deletes the Cluster and the cluster's other hub objects.
func (u *unregistration) cleanHub(ctx context.Context, karmada versioned.Interface) error {
	if err := u.deleteCluster(ctx, karmada); err != nil {
		return err
	}
	hubObjs, err := objects.NewClient(u.hubCfg)
	if err != nil {
		return err
	}
	adminOnly, leases := u.hubObjects()
	objs := leases
	if u.hubAdmin {
		objs = append(adminOnly, leases...)
	}
	deleted, err := hubObjs.Delete(ctx, objs...)
	for _, d := range deleted {
		u.printf("[hub] deleted %s\n", objects.Ref(d))
	}
	if err != nil {
		return err
	}
	if !u.hubAdmin {
		u.printf("[hub] WARNING: the agent's identity cannot delete the rest of the cluster's hub objects, which may remain: %s;\n"+
			"      run unregister again with --karmada-config <hub admin kubeconfig> to remove them\n", objects.Refs(adminOnly))
		return nil
	}
	if err := u.deleteCSRs(ctx); err != nil {
		return err
	}
	return hubObjs.WaitGone(ctx, u.opts.Wait, objs...)
}

func (u *unregistration) deleteCluster(ctx context.Context, karmada versioned.Interface) error {
	clusters := karmada.ClusterV1alpha1().Clusters()
	err := clusters.Delete(ctx, u.opts.Cluster, metav1.DeleteOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete Cluster %s: %w", u.opts.Cluster, err)
	}
	u.printf("[hub] deleted Cluster %s\n", u.opts.Cluster)
	err = wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, u.opts.Wait, true, func(ctx context.Context) (bool, error) {
		_, err := clusters.Get(ctx, u.opts.Cluster, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if err != nil {
		return fmt.Errorf("Cluster %s is still there after %s: its finalizers (%s) are removed by the hub's cluster controller; check that it runs", u.opts.Cluster, u.opts.Wait, clusterv1alpha1.ClusterControllerFinalizer)
	}
	return nil
}

func (u *unregistration) deleteCSRs(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(u.hubCfg)
	if err != nil {
		return err
	}
	sel := metav1.FormatLabelSelector(&metav1.LabelSelector{MatchLabels: map[string]string{bootstrap.ClusterLabel: u.opts.Cluster}})
	err = cs.CertificatesV1().CertificateSigningRequests().DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{LabelSelector: sel})
	if err != nil {
		return fmt.Errorf("delete the CertificateSigningRequests of cluster %s: %w", u.opts.Cluster, err)
	}
	return nil
}

// printPlan lists what unregister would delete.
func (u *unregistration) printPlan(ctx context.Context) error {
	u.printf("# dry run: nothing was deleted. Unregister %s would delete what exists of:\n", u.opts.Cluster)
	if u.hubCfg != nil {
		karmada, err := versioned.NewForConfig(u.hubCfg)
		if err != nil {
			return err
		}
		ns := workv1alpha1.ExecutionNamespace(u.opts.Cluster)
		if list, err := karmada.WorkV1alpha1().Works(ns).List(ctx, metav1.ListOptions{}); err == nil {
			u.printf("hub: %d Works in %s\n", len(list.Items), ns)
		}
		if _, err := karmada.ClusterV1alpha1().Clusters().Get(ctx, u.opts.Cluster, metav1.GetOptions{}); err == nil {
			u.printf("hub: Cluster %s\n", u.opts.Cluster)
		}
		adminOnly, leases := u.hubObjects()
		if hubObjs, err := objects.NewClient(u.hubCfg); err == nil {
			found, _ := hubObjs.Existing(ctx, append(adminOnly, leases...)...)
			for _, o := range found {
				u.printf("hub: %s\n", objects.Ref(o))
			}
		}
	}
	namespaces, err := u.memberNamespaces(ctx)
	if err != nil {
		return err
	}
	found, err := u.memberObjs.Existing(ctx, append(namespaces, u.memberObjects()...)...)
	if err != nil {
		return err
	}
	for _, o := range found {
		u.printf("member: %s\n", objects.Ref(o))
	}
	return nil
}
