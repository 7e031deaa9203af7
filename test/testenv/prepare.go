package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/tether-io/tether/deploy/crds"
)

// prepare waits for the controllers and makes each cluster usable: the hub
// gets what kubeadm init creates for bootstrap tokens plus Tether's CRDs, and
// each member gets its fake Nodes.
func (e *Env) prepare(ctx context.Context, o Options, ports []clusterPorts) error {
	errs := make(chan error, len(e.Members)+1)
	go func() { errs <- e.prepareHub(ctx, ports[0]) }()
	for i, m := range e.Members {
		go func() { errs <- e.prepareMember(ctx, o, m, ports[i+1]) }()
	}
	var first error
	for range len(e.Members) + 1 {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (e *Env) prepareHub(ctx context.Context, ports clusterPorts) error {
	cs, err := kubernetes.NewForConfig(e.Hub.Config)
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, e.proc("hub-kcm"), fmt.Sprintf("https://127.0.0.1:%d/healthz", ports.kcm), "ok", time.Minute); err != nil {
		return err
	}
	if err := createClusterInfo(ctx, cs, e.Hub); err != nil {
		return err
	}
	if err := createBootstrapRBAC(ctx, cs); err != nil {
		return err
	}
	return InstallCRDs(ctx, e.Hub.Config)
}

// createClusterInfo writes kube-public/cluster-info the way kubeadm init does:
// a kubeconfig with the server and CA and no credentials. The hub's
// bootstrapsigner adds a JWS signature for every signing bootstrap token.
func createClusterInfo(ctx context.Context, cs kubernetes.Interface, hub *Cluster) error {
	ca, err := os.ReadFile(filepath.Join(hub.PKIDir, "ca.crt"))
	if err != nil {
		return err
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[""] = &clientcmdapi.Cluster{Server: hub.URL, CertificateAuthorityData: ca}
	raw, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: "cluster-info", Namespace: metav1.NamespacePublic},
		Data:       map[string]string{"kubeconfig": string(raw)},
	}
	return IgnoreExists(cs.CoreV1().ConfigMaps(metav1.NamespacePublic).Create(ctx, cm, metav1.CreateOptions{}))
}

// createBootstrapRBAC lets anonymous users read cluster-info and bootstrap
// tokens create CSRs, as kubeadm does.
func createBootstrapRBAC(ctx context.Context, cs kubernetes.Interface) error {
	const name = "kubeadm:bootstrap-signer-clusterinfo"
	role := &rbacv1.Role{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespacePublic},
		Rules:      []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"cluster-info"}, Verbs: []string{"get"}}},
	}
	binding := &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: metav1.NamespacePublic},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: "system:anonymous"}},
	}
	csr := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeadm:kubelet-bootstrap"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "system:node-bootstrapper"},
		Subjects:   []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: "system:bootstrappers"}},
	}
	rbac := cs.RbacV1()
	if err := IgnoreExists(rbac.Roles(role.Namespace).Create(ctx, role, metav1.CreateOptions{})); err != nil {
		return err
	}
	if err := IgnoreExists(rbac.RoleBindings(binding.Namespace).Create(ctx, binding, metav1.CreateOptions{})); err != nil {
		return err
	}
	return IgnoreExists(rbac.ClusterRoleBindings().Create(ctx, csr, metav1.CreateOptions{}))
}

// InstallCRDs creates (or updates) Tether's CRDs and waits until they are
// Established.
func InstallCRDs(ctx context.Context, cfg *rest.Config) error {
	return crds.Install(ctx, cfg, time.Minute)
}

func (e *Env) prepareMember(ctx context.Context, o Options, m *Cluster, ports clusterPorts) error {
	cs, err := kubernetes.NewForConfig(m.Config)
	if err != nil {
		return err
	}
	version, err := cs.Discovery().ServerVersion()
	if err != nil {
		return err
	}
	capacity := corev1.ResourceList{}
	for k, v := range o.NodeCapacity {
		q, err := resource.ParseQuantity(v)
		if err != nil {
			return fmt.Errorf("NodeCapacity[%s]=%q: %w", k, v, err)
		}
		capacity[corev1.ResourceName(k)] = q
	}
	for i := range o.Nodes {
		if err := CreateFakeNode(ctx, cs, fmt.Sprintf("kwok-node-%d", i), capacity, version.GitVersion); err != nil {
			return err
		}
	}
	for _, w := range []struct{ proc, url string }{
		{m.Name + "-kcm", fmt.Sprintf("https://127.0.0.1:%d/healthz", ports.kcm)},
		{m.Name + "-scheduler", fmt.Sprintf("https://127.0.0.1:%d/healthz", ports.scheduler)},
	} {
		if err := waitHTTP(ctx, e.proc(w.proc), w.url, "ok", time.Minute); err != nil {
			return err
		}
	}
	return wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, 2*time.Minute, true, func(ctx context.Context) (bool, error) {
		nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(nodes.Items) < o.Nodes {
			return false, nil
		}
		for _, n := range nodes.Items {
			if len(n.Spec.Taints) > 0 || !nodeReady(&n) {
				return false, nil
			}
		}
		// The ServiceAccount admission plugin rejects pods until the default SA exists.
		_, err = cs.CoreV1().ServiceAccounts(metav1.NamespaceDefault).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
}

// CreateFakeNode creates a Node that kwok manages, with the given capacity
// (also its allocatable). kwok keeps the status it is created with and adds
// the conditions, addresses and Ready state.
func CreateFakeNode(ctx context.Context, cs kubernetes.Interface, name string, capacity corev1.ResourceList, kubeletVersion string) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0"},
			Labels:      map[string]string{"type": "kwok", "kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"},
		},
		Status: corev1.NodeStatus{
			Capacity:    capacity,
			Allocatable: capacity,
			NodeInfo:    corev1.NodeSystemInfo{KubeletVersion: kubeletVersion, OperatingSystem: "linux", Architecture: "amd64"},
		},
	}
	return IgnoreExists(cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}))
}

func nodeReady(n *corev1.Node) bool {
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}
