package credentials

import (
	"context"
	"fmt"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1ac "k8s.io/client-go/applyconfigurations/core/v1"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/kubernetes"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// FieldManager owns what the agent applies in the member for credentials.
const FieldManager = "tether-agent"

// ImpersonatorServiceAccount is the member ServiceAccount of the
// impersonator token; the control plane binds its rights (Karmada's
// unified-auth controller sends them in a Work).
const ImpersonatorServiceAccount = "karmada-impersonator"

// ServiceAccountName is the member ServiceAccount of cluster's
// KubeCredentials token, karmada-<C>.
func ServiceAccountName(cluster string) string { return "karmada-" + cluster }

// ClusterRoleName names the ClusterRole and ClusterRoleBinding that give
// ServiceAccountName its rights.
func ClusterRoleName(cluster string) string {
	return "karmada-controller-manager:" + ServiceAccountName(cluster)
}

// member keeps the member objects and issues the tokens.
type member struct {
	client    kubernetes.Interface
	cluster   string
	namespace string
	lifetime  time.Duration
}

func systemLabels() map[string]string { return map[string]string{workv1alpha1.SystemLabel: "true"} }

func applyOptions() metav1.ApplyOptions {
	return metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
}

// ensure creates the namespace when it is missing, and applies the
// ServiceAccounts and (for KubeCredentials) the ClusterRole and its
// binding. Applying again repairs what was changed or deleted.
func (m member) ensure(ctx context.Context, r Report) error {
	if err := m.ensureNamespace(ctx); err != nil {
		return err
	}
	if r.Impersonator {
		if err := m.applyServiceAccount(ctx, ImpersonatorServiceAccount); err != nil {
			return err
		}
	}
	if !r.Credentials {
		return nil
	}
	sa := ServiceAccountName(m.cluster)
	if err := m.applyServiceAccount(ctx, sa); err != nil {
		return err
	}
	name := ClusterRoleName(m.cluster)
	role := rbacv1ac.ClusterRole(name).WithLabels(systemLabels()).WithRules(
		rbacv1ac.PolicyRule().WithAPIGroups("*").WithResources("*").WithVerbs("*"),
		rbacv1ac.PolicyRule().WithNonResourceURLs("*").WithVerbs("get"),
	)
	if _, err := m.client.RbacV1().ClusterRoles().Apply(ctx, role, applyOptions()); err != nil {
		return fmt.Errorf("apply member ClusterRole %s: %w", name, err)
	}
	binding := rbacv1ac.ClusterRoleBinding(name).WithLabels(systemLabels()).
		WithRoleRef(rbacv1ac.RoleRef().WithAPIGroup("rbac.authorization.k8s.io").WithKind("ClusterRole").WithName(name)).
		WithSubjects(rbacv1ac.Subject().WithKind("ServiceAccount").WithName(sa).WithNamespace(m.namespace))
	if _, err := m.client.RbacV1().ClusterRoleBindings().Apply(ctx, binding, applyOptions()); err != nil {
		return fmt.Errorf("apply member ClusterRoleBinding %s: %w", name, err)
	}
	return nil
}

// ensureNamespace creates the namespace, labelled as the agent's (so that
// unregister deletes it), when it is missing; a namespace that exists is
// left as it is, for it may hold what is not the agent's.
func (m member) ensureNamespace(ctx context.Context) error {
	_, err := m.client.CoreV1().Namespaces().Get(ctx, m.namespace, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: m.namespace, Labels: systemLabels()}}
		if _, err = m.client.CoreV1().Namespaces().Create(ctx, ns, metav1.CreateOptions{FieldManager: FieldManager}); apierrors.IsAlreadyExists(err) {
			err = nil
		}
	}
	if err != nil {
		return fmt.Errorf("ensure member Namespace %s: %w", m.namespace, err)
	}
	return nil
}

func (m member) applyServiceAccount(ctx context.Context, name string) error {
	sa := corev1ac.ServiceAccount(name, m.namespace).WithLabels(systemLabels())
	if _, err := m.client.CoreV1().ServiceAccounts(m.namespace).Apply(ctx, sa, applyOptions()); err != nil {
		return fmt.Errorf("apply member ServiceAccount %s/%s: %w", m.namespace, name, err)
	}
	return nil
}

// token asks the member apiserver for a token of the ServiceAccount name,
// valid for the lifetime (or less, should the apiserver cap it). It
// returns the token and when it expires.
func (m member) token(ctx context.Context, name string) ([]byte, time.Time, error) {
	seconds := int64(m.lifetime / time.Second)
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: &seconds}}
	res, err := m.client.CoreV1().ServiceAccounts(m.namespace).CreateToken(ctx, name, req, metav1.CreateOptions{})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("request a token of member ServiceAccount %s/%s: %w", m.namespace, name, err)
	}
	if res.Status.Token == "" {
		return nil, time.Time{}, fmt.Errorf("request a token of member ServiceAccount %s/%s: the apiserver returned no token", m.namespace, name)
	}
	return []byte(res.Status.Token), res.Status.ExpirationTimestamp.Time, nil
}

// issue ensures the member objects and requests the reported tokens.
func (m member) issue(ctx context.Context, r Report, ca []byte, now time.Time) (Tokens, error) {
	if err := m.ensure(ctx, r); err != nil {
		return Tokens{}, err
	}
	t := Tokens{CABundle: ca, Issued: now}
	take := func(name string) ([]byte, error) {
		tok, exp, err := m.token(ctx, name)
		if err == nil && (t.Expiry.IsZero() || exp.Before(t.Expiry)) {
			t.Expiry = exp
		}
		return tok, err
	}
	var err error
	if r.Credentials {
		if t.Credentials, err = take(ServiceAccountName(m.cluster)); err != nil {
			return Tokens{}, err
		}
	}
	if r.Impersonator {
		if t.Impersonator, err = take(ImpersonatorServiceAccount); err != nil {
			return Tokens{}, err
		}
	}
	return t, nil
}
