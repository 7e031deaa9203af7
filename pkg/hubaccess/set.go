package hubaccess

import (
	"context"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/klog/v2"
)

// Set is what the agent's identity may do on the hub. The zero Set was not
// probed and holds every permission, so that code given no Set behaves as
// it did before the probe existed.
type Set struct {
	denied map[Permission]bool
	// clusterNamespace is where the credentials Secrets were asked about.
	clusterNamespace string
}

// All is the Set that holds every permission (the zero Set).
func All() Set { return Set{} }

// Without is the Set that holds every permission but those given.
func Without(denied ...Permission) Set {
	s := Set{denied: map[Permission]bool{}}
	for _, p := range denied {
		s.denied[p] = true
	}
	return s
}

// Has reports whether the identity holds p.
func (s Set) Has(p Permission) bool { return !s.denied[p] }

// HasAll reports whether the identity holds every one of ps.
func (s Set) HasAll(ps ...Permission) bool {
	for _, p := range ps {
		if !s.Has(p) {
			return false
		}
	}
	return true
}

// Denied lists the permissions the identity does not hold, in declaration order.
func (s Set) Denied() []Permission {
	var out []Permission
	for _, p := range Permissions() {
		if !s.Has(p) {
			out = append(out, p)
		}
	}
	return out
}

// CanReadPolicies reports whether the identity may list and watch
// OverridePolicies and ClusterOverridePolicies, which edge rendering needs.
func (s Set) CanReadPolicies() bool { return s.HasAll(ReadPolicies.AnyOf[0]...) }

// Reviewer creates SelfSubjectAccessReviews: the SelfSubjectAccessReviews()
// of a kubernetes.Interface's AuthorizationV1().
type Reviewer interface {
	Create(ctx context.Context, review *authorizationv1.SelfSubjectAccessReview, opts metav1.CreateOptions) (*authorizationv1.SelfSubjectAccessReview, error)
}

// Probe asks the hub, one SelfSubjectAccessReview per permission (every
// authenticated user may create them), which permissions the agent of
// cluster holds, with its credentials Secrets in karmada-cluster. A hub
// that refuses the reviews themselves cannot be asked: Probe then logs it
// and returns All, and each request meets its own answer. Any other error
// is returned for a retry.
func Probe(ctx context.Context, r Reviewer, cluster string) (Set, error) {
	return ProbeIn(ctx, r, cluster, "")
}

// ProbeIn is Probe with the credentials Secrets in clusterNamespace
// (--cluster-namespace; empty: karmada-cluster).
func ProbeIn(ctx context.Context, r Reviewer, cluster, clusterNamespace string) (Set, error) {
	w := where{cluster: cluster, clusterNamespace: clusterNamespace}
	var denied []Permission
	for _, p := range Permissions() {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: p.attributesIn(w)}}
		res, err := r.Create(ctx, review, metav1.CreateOptions{})
		if apierrors.IsForbidden(err) {
			klog.FromContext(ctx).Info("The hub refuses SelfSubjectAccessReviews, so the agent cannot tell which permissions it holds; it uses every verb it prefers", "err", err.Error())
			return All(), nil
		}
		if err != nil {
			return Set{}, fmt.Errorf("ask the hub whether the agent of cluster %s may %s: %w", cluster, p, err)
		}
		if !res.Status.Allowed {
			denied = append(denied, p)
		}
	}
	s := Without(denied...)
	s.clusterNamespace = clusterNamespace
	return s, nil
}
