// Package hubaccess holds what the agent's identity may do on the hub: every
// permission the agent uses there, declared in one place (this file), the
// tasks that need them with the alternatives each task can fall back to
// (tasks.go), the RBAC rules that grant tasks (rules.go: the hub grant of
// 'tether-agent register', of Tether's approver and of the tests is the
// union over AllTasks), and a probe that asks the hub, with rules and
// access reviews (review.go), which of them the identity holds. A Karmada control plane grants an agent fewer
// verbs than Tether's own registration (no patch of Works or of the
// Cluster's status, no OverridePolicy reads); the agent reads the probed Set
// to write with Update where it may not patch, to leave out what it may not
// watch, and to report, once, what it cannot do at all.
package hubaccess

import (
	authorizationv1 "k8s.io/api/authorization/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	configv1alpha1 "github.com/tether-io/tether/pkg/apis/config/v1alpha1"
	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Permission is one verb on one hub resource that the agent uses.
type Permission int

// The hub permissions the agent uses.
const (
	ClusterGet Permission = iota
	ClusterList
	ClusterWatch
	ClusterCreate
	ClusterUpdate
	ClusterPatch
	ClusterDelete
	ClusterStatusUpdate
	ClusterStatusPatch
	WorkGet
	WorkList
	WorkWatch
	WorkUpdate
	WorkPatch
	WorkCreate
	WorkDelete
	WorkStatusUpdate
	WorkStatusPatch
	OverridePolicyList
	OverridePolicyWatch
	ClusterOverridePolicyList
	ClusterOverridePolicyWatch
	LeaseGet
	LeaseCreate
	LeaseUpdate
	LeaseDelete
	EventCreate
	EventPatch
	// ClusterEventCreate posts Events about the Cluster, which live in
	// namespace default (the Cluster has none).
	ClusterEventCreate
	CSRCreate
	CSRGet
	CustomizationList
	CustomizationWatch
	// The member credentials Secrets (--report-secrets): <C> and
	// <C>-impersonator in the cluster namespace.
	CredentialsSecretGet
	CredentialsSecretPatch
	ImpersonatorSecretGet
	ImpersonatorSecretPatch
	SecretCreate
	numPermissions
)

// scope is where a permission applies.
type scope int

const (
	clusterScoped      scope = iota // a cluster-scoped resource, or every namespace
	executionNamespace              // karmada-es-<cluster>
	leaseNamespace                  // karmada-cluster
	clusterNamespace                // --cluster-namespace (default karmada-cluster)
	defaultNamespace                // default, where Events about cluster-scoped objects go
)

// spec is the resource, verb and scope of a Permission.
type spec struct {
	group, resource, subresource, verb string
	scope                              scope
	// named restricts the permission to the object named after the cluster
	// (a list or watch of it is one with a metadata.name field selector),
	// followed by suffix.
	named  bool
	suffix string
}

const coordinationGroup = "coordination.k8s.io"

// specs declares every Permission.
var specs = [numPermissions]spec{
	ClusterGet:                 {group: clusterv1alpha1.GroupName, resource: "clusters", verb: "get", named: true},
	ClusterList:                {group: clusterv1alpha1.GroupName, resource: "clusters", verb: "list", named: true},
	ClusterWatch:               {group: clusterv1alpha1.GroupName, resource: "clusters", verb: "watch", named: true},
	ClusterCreate:              {group: clusterv1alpha1.GroupName, resource: "clusters", verb: "create"},
	ClusterUpdate:              {group: clusterv1alpha1.GroupName, resource: "clusters", verb: "update", named: true},
	ClusterPatch:               {group: clusterv1alpha1.GroupName, resource: "clusters", verb: "patch", named: true},
	ClusterDelete:              {group: clusterv1alpha1.GroupName, resource: "clusters", verb: "delete", named: true},
	ClusterStatusUpdate:        {group: clusterv1alpha1.GroupName, resource: "clusters", subresource: "status", verb: "update", named: true},
	ClusterStatusPatch:         {group: clusterv1alpha1.GroupName, resource: "clusters", subresource: "status", verb: "patch", named: true},
	WorkGet:                    {group: workv1alpha1.GroupName, resource: "works", verb: "get", scope: executionNamespace},
	WorkList:                   {group: workv1alpha1.GroupName, resource: "works", verb: "list", scope: executionNamespace},
	WorkWatch:                  {group: workv1alpha1.GroupName, resource: "works", verb: "watch", scope: executionNamespace},
	WorkUpdate:                 {group: workv1alpha1.GroupName, resource: "works", verb: "update", scope: executionNamespace},
	WorkPatch:                  {group: workv1alpha1.GroupName, resource: "works", verb: "patch", scope: executionNamespace},
	WorkCreate:                 {group: workv1alpha1.GroupName, resource: "works", verb: "create", scope: executionNamespace},
	WorkDelete:                 {group: workv1alpha1.GroupName, resource: "works", verb: "delete", scope: executionNamespace},
	WorkStatusUpdate:           {group: workv1alpha1.GroupName, resource: "works", subresource: "status", verb: "update", scope: executionNamespace},
	WorkStatusPatch:            {group: workv1alpha1.GroupName, resource: "works", subresource: "status", verb: "patch", scope: executionNamespace},
	OverridePolicyList:         {group: policyv1alpha1.GroupName, resource: "overridepolicies", verb: "list"},
	OverridePolicyWatch:        {group: policyv1alpha1.GroupName, resource: "overridepolicies", verb: "watch"},
	ClusterOverridePolicyList:  {group: policyv1alpha1.GroupName, resource: "clusteroverridepolicies", verb: "list"},
	ClusterOverridePolicyWatch: {group: policyv1alpha1.GroupName, resource: "clusteroverridepolicies", verb: "watch"},
	LeaseGet:                   {group: coordinationGroup, resource: "leases", verb: "get", scope: leaseNamespace, named: true},
	LeaseCreate:                {group: coordinationGroup, resource: "leases", verb: "create", scope: leaseNamespace},
	LeaseUpdate:                {group: coordinationGroup, resource: "leases", verb: "update", scope: leaseNamespace, named: true},
	LeaseDelete:                {group: coordinationGroup, resource: "leases", verb: "delete", scope: leaseNamespace, named: true},
	EventCreate:                {resource: "events", verb: "create", scope: executionNamespace},
	EventPatch:                 {resource: "events", verb: "patch", scope: executionNamespace},
	ClusterEventCreate:         {resource: "events", verb: "create", scope: defaultNamespace},
	CSRCreate:                  {group: "certificates.k8s.io", resource: "certificatesigningrequests", verb: "create"},
	CSRGet:                     {group: "certificates.k8s.io", resource: "certificatesigningrequests", verb: "get"},
	CustomizationList:          {group: configv1alpha1.GroupName, resource: "resourceinterpretercustomizations", verb: "list"},
	CustomizationWatch:         {group: configv1alpha1.GroupName, resource: "resourceinterpretercustomizations", verb: "watch"},
	CredentialsSecretGet:       {resource: "secrets", verb: "get", scope: clusterNamespace, named: true},
	CredentialsSecretPatch:     {resource: "secrets", verb: "patch", scope: clusterNamespace, named: true},
	ImpersonatorSecretGet:      {resource: "secrets", verb: "get", scope: clusterNamespace, named: true, suffix: impersonatorSuffix},
	ImpersonatorSecretPatch:    {resource: "secrets", verb: "patch", scope: clusterNamespace, named: true, suffix: impersonatorSuffix},
	SecretCreate:               {resource: "secrets", verb: "create", scope: clusterNamespace},
}

// impersonatorSuffix follows the cluster name in the impersonator Secret's.
const impersonatorSuffix = "-impersonator"

// where is the cluster a permission is asked for, and its cluster
// namespace (empty: karmada-cluster).
type where struct{ cluster, clusterNamespace string }

func (w where) namespace() string {
	if w.clusterNamespace == "" {
		return clusterv1alpha1.DefaultClusterNamespace
	}
	return w.clusterNamespace
}

// Permissions lists every Permission the agent uses.
func Permissions() []Permission {
	out := make([]Permission, numPermissions)
	for i := range out {
		out[i] = Permission(i)
	}
	return out
}

// String is the verb and the resource, as "patch works/status".
func (p Permission) String() string {
	if p < 0 || p >= numPermissions {
		return "unknown permission"
	}
	s := specs[p]
	return s.verb + " " + s.resourcePath()
}

// resourcePath is resource[/subresource].
func (s spec) resourcePath() string {
	if s.subresource == "" {
		return s.resource
	}
	return s.resource + "/" + s.subresource
}

// namespace is where the permission applies for w ("" cluster-wide).
func (s spec) namespace(w where) string {
	switch s.scope {
	case executionNamespace:
		return workv1alpha1.ExecutionNamespace(w.cluster)
	case leaseNamespace:
		return clusterv1alpha1.LeaseNamespace
	case clusterNamespace:
		return w.namespace()
	case defaultNamespace:
		return "default"
	}
	return ""
}

// name is the only object the permission applies to, or "".
func (s spec) name(cluster string) string {
	if !s.named {
		return ""
	}
	return cluster + s.suffix
}

// Attributes are the SelfSubjectAccessReview attributes of p for the agent
// of cluster, with its credentials Secrets in clusterNamespace (""
// karmada-cluster): the request the permission allows.
func (p Permission) Attributes(cluster, clusterNamespace string) *authorizationv1.ResourceAttributes {
	return p.attributesIn(where{cluster: cluster, clusterNamespace: clusterNamespace})
}

// attributes are the SelfSubjectAccessReview attributes of p for cluster,
// with the default cluster namespace.
func (p Permission) attributes(cluster string) *authorizationv1.ResourceAttributes {
	return p.attributesIn(where{cluster: cluster})
}

// attributesIn are the SelfSubjectAccessReview attributes of p for w.
func (p Permission) attributesIn(w where) *authorizationv1.ResourceAttributes {
	s := specs[p]
	return &authorizationv1.ResourceAttributes{Group: s.group, Resource: s.resource, Subresource: s.subresource,
		Verb: s.verb, Namespace: s.namespace(w), Name: s.name(w.cluster)}
}
