package migrate

import (
	"context"
	"fmt"
	"path"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/pkg/agent/leader"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
)

// credentials is where the agent's hub kubeconfig is, found the way
// karmadactl unregister finds it: the --karmada-kubeconfig= argument of the
// first container, the volume mounted at that file's directory, and the
// key of that Secret named like the file.
type credentials struct {
	Secret, Key, Context string
}

func hubCredentials(d *appsv1.Deployment) (credentials, error) {
	c := d.Spec.Template.Spec.Containers[0]
	args := agentFlags(c)
	file, ok := flagValue(args, "karmada-kubeconfig")
	if !ok || file == "" {
		return credentials{}, fmt.Errorf("Deployment %s/%s: the first container has no --karmada-kubeconfig= argument, so the hub credentials cannot be found",
			d.Namespace, d.Name)
	}
	ctxName, _ := flagValue(args, "karmada-context")
	dir := path.Dir(file)
	for _, m := range c.VolumeMounts {
		if path.Clean(m.MountPath) != dir {
			continue
		}
		for _, v := range d.Spec.Template.Spec.Volumes {
			if v.Name == m.Name && v.Secret != nil {
				return credentials{Secret: v.Secret.SecretName, Key: path.Base(file), Context: ctxName}, nil
			}
		}
	}
	return credentials{}, fmt.Errorf("Deployment %s/%s: no Secret volume is mounted at %s, the directory of --karmada-kubeconfig=%s",
		d.Namespace, d.Name, dir, file)
}

// hubIdentity loads the agent's hub kubeconfig from its Secret.
func (m *migration) hubIdentity(ctx context.Context, d *appsv1.Deployment) (*bootstrap.HubKubeconfig, error) {
	cred, err := hubCredentials(d)
	if err != nil {
		return nil, err
	}
	kc, err := bootstrap.LoadHubKubeconfig(ctx, bootstrap.NewSecretStore(m.member, d.Namespace, cred.Secret, cred.Key), cred.Context)
	if err != nil {
		return nil, fmt.Errorf("hub credentials in Secret %s/%s key %s: %w", d.Namespace, cred.Secret, cred.Key, err)
	}
	leaf := kc.Certificate().Leaf
	m.step("Hub credentials: Secret %s/%s key %s, certificate %s (O=%s), valid until %s: kept",
		d.Namespace, cred.Secret, cred.Key, leaf.Subject.CommonName, strings.Join(leaf.Subject.Organization, ","), leaf.NotAfter.UTC().Format("2006-01-02"))
	return kc, nil
}

// hubClients are the agent's own hub clients; migrate only reads with them.
type hubClients struct {
	karmada versioned.Interface
	kube    kubernetes.Interface
}

func newHubClients(kc *bootstrap.HubKubeconfig) (*hubClients, error) {
	cfg, err := kc.RESTConfig()
	if err != nil {
		return nil, err
	}
	cfg.UserAgent = "tether-agent-migrate"
	h := &hubClients{}
	if h.karmada, err = versioned.NewForConfig(cfg); err != nil {
		return nil, err
	}
	if h.kube, err = kubernetes.NewForConfig(cfg); err != nil {
		return nil, err
	}
	return h, nil
}

// checkHub reads the cluster's Cluster object and karmada-agent's Lease
// with the agent's identity. A hub that cannot be reached from here is a
// warning: the agent reaches it from the member.
func (m *migration) checkHub(ctx context.Context, h *hubClients, cluster, leaseNS string) {
	c, err := h.karmada.ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		m.step("Warning: the hub has no Cluster %s; the agent will create it on joining with the same identity", cluster)
	case err != nil:
		m.step("Warning: cannot read Cluster %s on the hub from here (%v); the agent will join with the same identity", cluster, err)
	default:
		m.step("Cluster %s on the hub: id %s, sync mode %s: kept (migrate writes nothing on the hub)", cluster, c.Spec.ID, c.Spec.SyncMode)
	}
	lease, err := h.kube.CoordinationV1().Leases(leaseNS).Get(ctx, leader.HubLeaseName(cluster), metav1.GetOptions{})
	if err == nil && lease.Spec.HolderIdentity != nil {
		m.step("karmada-agent's leader Lease %s/%s on the hub is held by %s: the Tether agent waits until it is free, then holds it",
			leaseNS, lease.Name, *lease.Spec.HolderIdentity)
	}
}

// works lists the cluster's Works, to find the member objects karmada-agent applied.
func (h *hubClients) works(ctx context.Context, cluster string) ([]workv1alpha1.Work, error) {
	list, err := h.karmada.WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(cluster)).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("list the Works of %s on the hub: %w", cluster, err)
	}
	return list.Items, nil
}
