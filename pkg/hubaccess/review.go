package hubaccess

import (
	"context"
	"errors"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	authorizationclient "k8s.io/client-go/kubernetes/typed/authorization/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
	"k8s.io/klog/v2"
)

// Reviewer asks the hub what the agent's own identity may do: the
// AuthorizationV1() of a kubernetes.Interface. Every authenticated user
// may create both kinds of review.
type Reviewer interface {
	SelfSubjectAccessReviews() authorizationclient.SelfSubjectAccessReviewInterface
	SelfSubjectRulesReviews() authorizationclient.SelfSubjectRulesReviewInterface
}

// errReviewsRefused: the hub refuses SelfSubjectAccessReviews themselves.
var errReviewsRefused = errors.New("the hub refuses SelfSubjectAccessReviews")

// denied asks the hub which of ps the identity lacks. The permissions in
// one namespace are answered by one SelfSubjectRulesReview of it, matched
// with RBAC's own rule comparison; the cluster-scoped ones, and those of a
// namespace whose rules review is incomplete (an authorizer other than
// RBAC) or refused, by one SelfSubjectAccessReview each. A rules review
// lists the rules that apply in its namespace without saying whether they
// come from a RoleBinding or a ClusterRoleBinding, which decides a
// cluster-scoped request; within the namespace it is exact.
func denied(ctx context.Context, r Reviewer, w where, ps []Permission) ([]Permission, error) {
	byNamespace := map[string][]Permission{}
	var order []string
	var one []Permission // asked one by one
	for _, p := range ps {
		ns := specs[p].namespace(w)
		if ns == "" {
			one = append(one, p)
			continue
		}
		if _, ok := byNamespace[ns]; !ok {
			order = append(order, ns)
		}
		byNamespace[ns] = append(byNamespace[ns], p)
	}
	var out []Permission
	for _, ns := range order {
		rules, ok, err := namespaceRules(ctx, r, ns)
		if err != nil {
			return nil, err
		}
		if !ok {
			one = append(one, byNamespace[ns]...)
			continue
		}
		for _, p := range byNamespace[ns] {
			if covered, _ := validation.Covers(rules, []rbacv1.PolicyRule{p.rule(w)}); !covered {
				out = append(out, p)
			}
		}
	}
	for _, p := range one {
		allowed, err := accessReview(ctx, r, p, w)
		if err != nil {
			return nil, err
		}
		if !allowed {
			out = append(out, p)
		}
	}
	return out, nil
}

// namespaceRules are the rules that apply to the identity in namespace;
// ok is false when the hub cannot give them completely.
func namespaceRules(ctx context.Context, r Reviewer, namespace string) ([]rbacv1.PolicyRule, bool, error) {
	review := &authorizationv1.SelfSubjectRulesReview{Spec: authorizationv1.SelfSubjectRulesReviewSpec{Namespace: namespace}}
	res, err := r.SelfSubjectRulesReviews().Create(ctx, review, metav1.CreateOptions{})
	if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) || apierrors.IsMethodNotSupported(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("ask the hub for the agent's rules in namespace %s: %w", namespace, err)
	}
	if res.Status.Incomplete || res.Status.EvaluationError != "" {
		klog.FromContext(ctx).V(2).Info("The hub's rules review is incomplete; asking permission by permission", "namespace", namespace,
			"evaluationError", res.Status.EvaluationError)
		return nil, false, nil
	}
	rules := make([]rbacv1.PolicyRule, 0, len(res.Status.ResourceRules))
	for _, rr := range res.Status.ResourceRules {
		rules = append(rules, rbacv1.PolicyRule{Verbs: rr.Verbs, APIGroups: rr.APIGroups, Resources: rr.Resources, ResourceNames: rr.ResourceNames})
	}
	return rules, true, nil
}

// accessReview asks the hub whether the identity holds p.
func accessReview(ctx context.Context, r Reviewer, p Permission, w where) (bool, error) {
	review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: p.attributesIn(w)}}
	res, err := r.SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
	if apierrors.IsForbidden(err) {
		return false, fmt.Errorf("%w: %w", errReviewsRefused, err)
	}
	if err != nil {
		return false, fmt.Errorf("ask the hub whether the agent of cluster %s may %s: %w", w.cluster, p, err)
	}
	return res.Status.Allowed, nil
}

// rule is p as an RBAC rule: its verb on its resource (and subresource),
// limited to its object when it names one.
func (p Permission) rule(w where) rbacv1.PolicyRule {
	s := specs[p]
	resource := s.resource
	if s.subresource != "" {
		resource += "/" + s.subresource
	}
	r := rbacv1.PolicyRule{Verbs: []string{s.verb}, APIGroups: []string{s.group}, Resources: []string{resource}}
	if name := s.name(w.cluster); name != "" {
		r.ResourceNames = []string{name}
	}
	return r
}
