package register

import (
	"context"
	"fmt"
	"strings"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-io/tether/pkg/register/objects"
)

// PreflightError lists every reason the member cannot be registered.
type PreflightError struct {
	Cluster  string
	Problems []string
	// Leftovers is set when objects of an earlier registration exist.
	Leftovers bool
}

func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "preflight checks failed for cluster %q:\n", e.Cluster)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "  - %s\n", p)
	}
	if e.Leftovers {
		fmt.Fprintf(&b, "These objects belong to an earlier registration. Remove it with\n"+
			"    tether-agent unregister %s --kubeconfig <this member kubeconfig> [--karmada-config <hub admin kubeconfig>]\n"+
			"or delete them (kubectl delete ...), then run register again.", e.Cluster)
	}
	return strings.TrimRight(b.String(), "\n")
}

// preflight checks, without changing anything, that the member is
// reachable, that the operator may create the agent's objects and that no
// earlier registration left any of them.
func (r *registration) preflight(ctx context.Context) error {
	perr := &PreflightError{Cluster: r.cluster}
	if _, err := r.member.Discovery().ServerVersion(); err != nil {
		perr.Problems = append(perr.Problems, fmt.Sprintf("cannot reach the member cluster at %s with the given --kubeconfig: %v", r.Member.Host, err))
		return perr
	}
	found, err := r.objs.Existing(ctx, r.memberObjects(nil)...)
	if err != nil {
		perr.Problems = append(perr.Problems, err.Error())
	}
	for _, obj := range found {
		perr.Problems = append(perr.Problems, objects.Ref(obj)+" already exists")
		perr.Leftovers = true
	}
	for _, attrs := range r.requiredAccess() {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &attrs}}
		res, err := r.member.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			perr.Problems = append(perr.Problems, fmt.Sprintf("cannot check permissions on the member: %v", err))
			break
		}
		if !res.Status.Allowed {
			where := "cluster-wide"
			if attrs.Namespace != "" {
				where = "in namespace " + attrs.Namespace
			}
			perr.Problems = append(perr.Problems, fmt.Sprintf("the member kubeconfig may not %s %s %s: use a kubeconfig with cluster-admin rights", attrs.Verb, attrs.Resource, where))
		}
	}
	if len(perr.Problems) > 0 {
		return perr
	}
	return nil
}

func (r *registration) requiredAccess() []authorizationv1.ResourceAttributes {
	ns := r.agent.Namespace
	if r.opts.SecretOnly {
		return []authorizationv1.ResourceAttributes{{Resource: "secrets", Namespace: ns, Verb: "create"}}
	}
	return []authorizationv1.ResourceAttributes{
		{Resource: "namespaces", Verb: "create"},
		{Resource: "secrets", Namespace: ns, Verb: "create"},
		{Resource: "serviceaccounts", Namespace: ns, Verb: "create"},
		{Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Verb: "create"},
		{Group: "rbac.authorization.k8s.io", Resource: "clusterrolebindings", Verb: "create"},
		{Group: "rbac.authorization.k8s.io", Resource: "clusterroles", Verb: "escalate"},
		{Group: "apps", Resource: "deployments", Namespace: ns, Verb: "create"},
	}
}
