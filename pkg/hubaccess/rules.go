package hubaccess

import (
	"slices"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// Rule is one RBAC rule of the agent's hub grant and the namespace it
// applies in ("" for a ClusterRole's rule).
type Rule struct {
	Namespace string
	rbacv1.PolicyRule
}

// Rules are the RBAC rules that grant the agent of cluster every
// alternative of each task, with its credentials Secrets in
// clusterNamespace ("" for karmada-cluster): what a hub grants so that the
// agent uses the preferred permission and a probe finds it.
func Rules(cluster, clusterNamespace string, tasks ...Task) []Rule {
	var perms []Permission
	for _, t := range tasks {
		for _, alt := range t.AnyOf {
			perms = append(perms, alt...)
		}
	}
	return rulesOf(where{cluster: cluster, clusterNamespace: clusterNamespace}, perms)
}

// PreferredRules are the rules that grant only the preferred alternative
// of each task: the least an agent needs to use no fallback.
func PreferredRules(cluster, clusterNamespace string, tasks ...Task) []Rule {
	var perms []Permission
	for _, t := range tasks {
		perms = append(perms, t.AnyOf[0]...)
	}
	return rulesOf(where{cluster: cluster, clusterNamespace: clusterNamespace}, perms)
}

// ByNamespace groups rules by namespace ("" for the cluster-wide ones).
func ByNamespace(rules []Rule) map[string][]rbacv1.PolicyRule {
	out := map[string][]rbacv1.PolicyRule{}
	for _, r := range rules {
		out[r.Namespace] = append(out[r.Namespace], r.PolicyRule)
	}
	return out
}

// rulesOf turns permissions into rules, in the order the permissions come:
// one rule per namespace, group, resource and object name with its verbs;
// then the resources that share a namespace, group, name and verbs in one
// rule (list and watch of both policy kinds), and then the names that share
// the rest (get and patch of both credentials Secrets).
func rulesOf(w where, perms []Permission) []Rule {
	var out []Rule
	for _, p := range perms {
		s := specs[p]
		r := Rule{Namespace: s.namespace(w), PolicyRule: rbacv1.PolicyRule{APIGroups: []string{s.group}, Resources: []string{s.resourcePath()}}}
		if name := s.name(w.cluster); name != "" {
			r.ResourceNames = []string{name}
		}
		i := slices.IndexFunc(out, func(o Rule) bool {
			return o.Namespace == r.Namespace && slices.Equal(o.APIGroups, r.APIGroups) &&
				slices.Equal(o.Resources, r.Resources) && slices.Equal(o.ResourceNames, r.ResourceNames)
		})
		if i < 0 {
			out = append(out, r)
			i = len(out) - 1
		}
		if !slices.Contains(out[i].Verbs, s.verb) {
			out[i].Verbs = append(out[i].Verbs, s.verb)
		}
	}
	out = merge(out, func(r *Rule) *[]string { return &r.Resources })
	return merge(out, func(r *Rule) *[]string { return &r.ResourceNames })
}

// merge joins the rules that differ only in the list field picks (and
// whose lists are not empty: an empty name list means every name), keeping
// the first rule's place.
func merge(rules []Rule, field func(*Rule) *[]string) []Rule {
	var out []Rule
	for _, r := range rules {
		i := slices.IndexFunc(out, func(o Rule) bool {
			if len(*field(&o)) == 0 || len(*field(&r)) == 0 {
				return false
			}
			a, b := o, r
			*field(&a), *field(&b) = nil, nil
			return a.Namespace == b.Namespace && slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
				slices.Equal(a.ResourceNames, b.ResourceNames) && slices.Equal(a.Verbs, b.Verbs)
		})
		if i < 0 {
			out = append(out, r)
			continue
		}
		list := field(&out[i])
		*list = append(slices.Clone(*list), *field(&r)...)
	}
	return out
}

// Evaluate is the Set that exactly rules give the agent of cluster, with
// its credentials Secrets in clusterNamespace: worked out offline, matching
// each permission against the rules the way the RBAC authorizer does (a
// rule applies in its namespace, or everywhere when it has none; "*"
// matches anything; a rule with names matches only requests naming one).
func Evaluate(rules []Rule, cluster, clusterNamespace string) Set {
	w := where{cluster: cluster, clusterNamespace: clusterNamespace}
	var denied []Permission
	for _, p := range Permissions() {
		a := p.attributesIn(w)
		if !slices.ContainsFunc(rules, func(r Rule) bool { return r.allows(a) }) {
			denied = append(denied, p)
		}
	}
	s := Without(denied...)
	s.clusterNamespace = clusterNamespace
	return s
}

// allows reports whether r grants the request a.
func (r Rule) allows(a *authorizationv1.ResourceAttributes) bool {
	res := a.Resource
	if a.Subresource != "" {
		res += "/" + a.Subresource
	}
	has := func(list []string, v string) bool {
		return slices.Contains(list, v) || slices.Contains(list, rbacv1.ResourceAll)
	}
	return (r.Namespace == "" || r.Namespace == a.Namespace) && has(r.APIGroups, a.Group) && has(r.Resources, res) && has(r.Verbs, a.Verb) &&
		(len(r.ResourceNames) == 0 || (a.Name != "" && slices.Contains(r.ResourceNames, a.Name)))
}
