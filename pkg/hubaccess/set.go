package hubaccess

import (
	"context"
	"errors"

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

// Probe asks the hub which permissions the agent of cluster holds, with
// its credentials Secrets in karmada-cluster: one SelfSubjectRulesReview per
// namespace the agent works in and one SelfSubjectAccessReview per
// cluster-scoped permission (review.go). A hub that refuses the reviews
// themselves cannot be asked: Probe then logs it and returns All, and each
// request meets its own answer. Any other error is returned for a retry.
func Probe(ctx context.Context, r Reviewer, cluster string) (Set, error) {
	return ProbeIn(ctx, r, cluster, "")
}

// ProbeIn is Probe with the credentials Secrets in clusterNamespace
// (--cluster-namespace; empty: karmada-cluster).
func ProbeIn(ctx context.Context, r Reviewer, cluster, clusterNamespace string) (Set, error) {
	w := where{cluster: cluster, clusterNamespace: clusterNamespace}
	d, err := denied(ctx, r, w, Permissions())
	if errors.Is(err, errReviewsRefused) {
		klog.FromContext(ctx).Info("The hub refuses SelfSubjectAccessReviews, so the agent cannot tell which permissions it holds; it uses every verb it prefers", "err", err.Error())
		return All(), nil
	}
	if err != nil {
		return Set{}, err
	}
	s := Without(d...)
	s.clusterNamespace = clusterNamespace
	return s, nil
}
