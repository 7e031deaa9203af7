package testenv

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
)

// GrantAgent gives the agent of cluster, on this cluster (the hub), exactly
// what 'tether-agent register' gives it: the shared hub namespaces, the
// execution namespace karmada-es-<cluster>, and the agent's ClusterRole,
// Roles and bindings, from the production definitions (hub.ClusterAccess).
func (c *Cluster) GrantAgent(ctx context.Context, cluster string) error {
	objs, err := objects.NewClient(c.Config)
	if err != nil {
		return err
	}
	access := hub.ClusterAccess{Cluster: cluster}
	if err := objs.Apply(ctx, access.SharedNamespaces()...); err != nil {
		return fmt.Errorf("grant the agent of %s on %s: %w", cluster, c.Name, err)
	}
	if err := objs.Apply(ctx, access.Objects()...); err != nil {
		return fmt.Errorf("grant the agent of %s on %s: %w", cluster, c.Name, err)
	}
	return nil
}

// AgentKubeconfig grants the agent of cluster its hub RBAC (GrantAgent),
// issues it a client certificate for system:karmada:agent:<cluster> in
// group system:karmada:agents, and writes a kubeconfig for it whose server
// is server (this cluster's URL, or a Proxy's URL) under the environment's
// directory. It returns the kubeconfig's path.
func (c *Cluster) AgentKubeconfig(ctx context.Context, cluster, server string) (string, error) {
	if err := c.GrantAgent(ctx, cluster); err != nil {
		return "", err
	}
	user := clusterv1alpha1.AgentUser(cluster)
	cfg, err := c.Identity(user, clusterv1alpha1.AgentGroup)
	if err != nil {
		return "", err
	}
	ca, err := os.ReadFile(filepath.Join(c.PKIDir, "ca.crt"))
	if err != nil {
		return "", err
	}
	port := server[strings.LastIndexByte(server, ':')+1:]
	path := filepath.Join(filepath.Dir(c.Kubeconfig), "identities", fmt.Sprintf("%s-agent-%s-%s.kubeconfig", c.Name, cluster, port))
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", err
	}
	return path, writeKubeconfig(path, c.Name, server, ca, cfg.CertData, cfg.KeyData)
}

// Grant gives user the rules, in namespace with a Role and RoleBinding, or
// cluster-wide with a ClusterRole and ClusterRoleBinding when namespace is
// "". Both are named testenv:grant:<user> and replace what an earlier Grant
// gave the same user there. cfg must be allowed to grant the rules (an
// admin config).
func Grant(ctx context.Context, cfg *rest.Config, user, namespace string, rules []rbacv1.PolicyRule) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	name := "testenv:grant:" + user
	meta := metav1.ObjectMeta{Name: name, Namespace: namespace}
	subjects := []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: user}}
	rbac := cs.RbacV1()
	if namespace == "" {
		err = upsert(ctx, rbac.ClusterRoles(), &rbacv1.ClusterRole{ObjectMeta: meta, Rules: rules})
		if err == nil {
			err = upsert(ctx, rbac.ClusterRoleBindings(), &rbacv1.ClusterRoleBinding{ObjectMeta: meta, Subjects: subjects,
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: name}})
		}
	} else {
		err = upsert(ctx, rbac.Roles(namespace), &rbacv1.Role{ObjectMeta: meta, Rules: rules})
		if err == nil {
			err = upsert(ctx, rbac.RoleBindings(namespace), &rbacv1.RoleBinding{ObjectMeta: meta, Subjects: subjects,
				RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: name}})
		}
	}
	if err != nil {
		return fmt.Errorf("grant %s in namespace %q: %w", user, namespace, err)
	}
	return nil
}

// rbacClient is the part of a typed RBAC client that upsert uses.
type rbacClient[T any] interface {
	Create(ctx context.Context, obj T, opts metav1.CreateOptions) (T, error)
	Update(ctx context.Context, obj T, opts metav1.UpdateOptions) (T, error)
}

// upsert creates obj, or replaces it when it exists (a Role's rules, a
// binding's subjects; a binding's roleRef never changes here).
func upsert[T any](ctx context.Context, c rbacClient[T], obj T) error {
	_, err := c.Create(ctx, obj, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		_, err = c.Update(ctx, obj, metav1.UpdateOptions{})
	}
	return err
}

// GrantRules grants user rules by namespace ("" cluster-wide), one Grant
// per namespace, creating the namespaces that are missing: for the rules of
// hubaccess.ByNamespace.
func GrantRules(ctx context.Context, cfg *rest.Config, user string, rules map[string][]rbacv1.PolicyRule) error {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return err
	}
	for ns, nsRules := range rules {
		if ns != "" {
			_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
			if err != nil && !apierrors.IsAlreadyExists(err) {
				return fmt.Errorf("grant %s: namespace %s: %w", user, ns, err)
			}
		}
		if err := Grant(ctx, cfg, user, ns, nsRules); err != nil {
			return err
		}
	}
	return nil
}
