package register_test

import (
	"context"
	"sync"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/test/testenv"
)

var karmadaOnce sync.Once

// karmadaHub installs Karmada's bootstrap RBAC once and
// starts the emulated agentcsrapproving controller for the test binary.
func karmadaHub(t *testing.T) *testenv.Env {
	t.Helper()
	env := testenv.Require(t)
	var err error
	karmadaOnce.Do(func() {
		admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
		err = installKarmadaRBAC(context.Background(), admin)
		go approveLikeKarmada(context.Background(), admin)
	})
	if err != nil {
		t.Fatalf("install Karmada's bootstrap RBAC: %v", err)
	}
	return env
}

func installKarmadaRBAC(ctx context.Context, cs kubernetes.Interface) error {
	group := func(n string) []rbacv1.Subject {
		return []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: n}}
	}
	user := func(n string) []rbacv1.Subject {
		return []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: n}}
	}
	role := func(name string, rules ...rbacv1.PolicyRule) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}
	}
	bind := func(name, role string, subjects []rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: name}, Subjects: subjects,
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}}
	}
	csr := func(sub string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{APIGroups: []string{"certificates.k8s.io"}, Resources: []string{"certificatesigningrequests/" + sub}, Verbs: []string{"create"}}
	}
	roles := []*rbacv1.ClusterRole{
		role("system:karmada:certificatesigningrequest:autoapprover", csr("clusteragent")),
		role("system:karmada:certificatesigningrequest:selfautoapprover", csr("selfclusteragent")),
		role("system:karmada:agent-rbac-generator", rbacv1.PolicyRule{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}),
	}
	bindings := []*rbacv1.ClusterRoleBinding{
		bind("system:karmada:agent-bootstrap", "system:node-bootstrapper", group(hub.DefaultTokenGroup)),
		bind("system:karmada:agent-autoapprove-bootstrap", "system:karmada:certificatesigningrequest:autoapprover", group(hub.DefaultTokenGroup)),
		bind("system:karmada:agent-autoapprove-certificate-rotation", "system:karmada:certificatesigningrequest:selfautoapprover", group("system:karmada:agents")),
		bind("system:karmada:agent-rbac-generator", "system:karmada:agent-rbac-generator", user("system:karmada:agent:rbac-generator")),
	}
	for _, r := range roles {
		if _, err := cs.RbacV1().ClusterRoles().Create(ctx, r, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	for _, b := range bindings {
		if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	const clusterInfoRole = "system:karmada:bootstrap-signer-clusterinfo"
	r := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: clusterInfoRole, Namespace: metav1.NamespacePublic},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"cluster-info"}, Verbs: []string{"get"}}}}
	rb := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: clusterInfoRole, Namespace: metav1.NamespacePublic}, Subjects: user("system:anonymous"),
		RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: clusterInfoRole}}
	if _, err := cs.RbacV1().Roles(r.Namespace).Create(ctx, r, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	if _, err := cs.RbacV1().RoleBindings(rb.Namespace).Create(ctx, rb, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return err
	}
	// A Karmada control plane has these namespaces from its installation.
	// Wait for their default ServiceAccounts, so that the snapshots taken
	// before a registration are stable.
	for _, ns := range []string{"karmada-system", "karmada-cluster"} {
		if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
		err := wait.PollUntilContextTimeout(ctx, 100*time.Millisecond, time.Minute, true, func(ctx context.Context) (bool, error) {
			_, err := cs.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
			return err == nil, nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// approveLikeKarmada emulates karmada-controller-manager's
// agentcsrapproving controller until ctx ends: agent CSRs
// are approved after a SubjectAccessReview on certificatesigningrequests/
// selfclusteragent (requester == CN) or /clusteragent; nothing is denied.
func approveLikeKarmada(ctx context.Context, cs kubernetes.Interface) {
	_ = wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CertificatesV1().CertificateSigningRequests().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil
		}
		for i := range list.Items {
			approveIfAgent(ctx, cs, &list.Items[i])
		}
		return false, nil
	})
}

func approveIfAgent(ctx context.Context, cs kubernetes.Interface, csr *certificatesv1.CertificateSigningRequest) {
	if len(csr.Status.Certificate) > 0 || len(csr.Status.Conditions) > 0 {
		return
	}
	req, err := bootstrap.ParseCSR(csr)
	if err != nil {
		return
	}
	if agent, err := hub.ParseAgentCSR(csr, req); err != nil || agent == nil {
		return
	}
	recognizers := []struct {
		recognize   bool
		subresource string
		message     string
	}{
		{csr.Spec.Username == req.Subject.CommonName, "selfclusteragent", "Auto approving self karmada agent certificate after SubjectAccessReview."},
		{true, "clusteragent", "Auto approving karmada agent certificate after SubjectAccessReview."},
	}
	for _, r := range recognizers {
		if !r.recognize {
			continue
		}
		extra := map[string]authorizationv1.ExtraValue{}
		for k, v := range csr.Spec.Extra {
			extra[k] = authorizationv1.ExtraValue(v)
		}
		sar, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User: csr.Spec.Username, UID: csr.Spec.UID, Groups: csr.Spec.Groups, Extra: extra,
			ResourceAttributes: &authorizationv1.ResourceAttributes{Group: "certificates.k8s.io", Resource: "certificatesigningrequests",
				Subresource: r.subresource, Verb: "create", Version: "*"},
		}}, metav1.CreateOptions{})
		if err != nil || !sar.Status.Allowed {
			continue
		}
		csr.Status.Conditions = append(csr.Status.Conditions, certificatesv1.CertificateSigningRequestCondition{
			Type: certificatesv1.CertificateApproved, Status: corev1.ConditionTrue, Reason: "AutoApproved", Message: r.message})
		_, _ = cs.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, csr.Name, csr, metav1.UpdateOptions{})
		return
	}
}
