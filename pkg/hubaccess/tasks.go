package hubaccess

// Task is something the agent does on the hub, with the permissions that
// let it: all the permissions of any one of its alternatives.
type Task struct {
	// ID names the task in the Roles the grant commands create.
	ID string
	// Name is what the agent does, as "write its Cluster's status".
	Name string
	// AnyOf are the alternatives, the preferred one (the one the grant
	// commands grant) first; each needs all of its permissions.
	AnyOf [][]Permission
	// Effect is what happens while no alternative is granted.
	Effect string
}

// The agent's tasks on the hub. Where a task has more than one
// alternative, the agent uses the first one it holds: a merge patch where
// it may patch, otherwise an Update with the resourceVersion it read, which
// re-reads the object on a conflict (the get that comes with it).
var (
	WatchWorks = Task{ID: "watch-works", Name: "list and watch the Works of its execution namespace",
		AnyOf: [][]Permission{{WorkList, WorkWatch}}, Effect: "no Work is applied"}
	WorkFinalizer = Task{ID: "work-finalizer", Name: "add and remove the finalizer of its Works",
		AnyOf: [][]Permission{{WorkPatch}, {WorkUpdate, WorkGet}}, Effect: "a deleted Work keeps its member objects and its finalizer"}
	WriteWorkStatus = Task{ID: "work-status", Name: "write the status of its Works",
		AnyOf: [][]Permission{{WorkStatusPatch}, {WorkStatusUpdate}}, Effect: "the control plane sees no Work status"}
	WatchCluster = Task{ID: "watch-cluster", Name: "read and watch its Cluster",
		AnyOf: [][]Permission{{ClusterGet, ClusterList, ClusterWatch}}, Effect: "no cluster status is reported"}
	WriteClusterStatus = Task{ID: "cluster-status", Name: "write the status of its Cluster",
		AnyOf:  [][]Permission{{ClusterStatusPatch}, {ClusterStatusUpdate, ClusterGet}},
		Effect: "the Cluster's status goes stale; the heartbeat Lease is not renewed, so that the control plane marks the cluster's readiness Unknown rather than trust a stale status"}
	CreateCluster = Task{ID: "cluster-create", Name: "create its Cluster when the hub has none",
		AnyOf: [][]Permission{{ClusterCreate}}, Effect: "a cluster whose Cluster object is missing cannot join"}
	UpdateClusterSpec = Task{ID: "cluster-spec", Name: "update the spec of its Cluster",
		AnyOf: [][]Permission{{ClusterPatch}, {ClusterUpdate, ClusterGet}}, Effect: "the Cluster keeps the spec fields it has"}
	Unregister = Task{ID: "unregister", Name: "remove its Works, its Cluster and its Lease ('tether-agent unregister' with the agent's own identity)",
		AnyOf:  [][]Permission{{WorkList, WorkGet, WorkUpdate, WorkDelete, LeaseGet, LeaseDelete, ClusterGet, ClusterDelete}},
		Effect: "'tether-agent unregister' needs hub admin credentials (--karmada-config)"}
	RenewLease = Task{ID: "lease", Name: "renew its heartbeat Lease",
		AnyOf: [][]Permission{{LeaseGet, LeaseCreate, LeaseUpdate}}, Effect: "the control plane marks the cluster's readiness Unknown"}
	PostEvents = Task{ID: "events", Name: "post Events on its Works (apply failures and recoveries, drift episodes)",
		AnyOf: [][]Permission{{EventCreate, EventPatch}}, Effect: "no Event is posted on its Works"}
	WarnOnCluster = Task{ID: "cluster-events", Name: "post Warning Events about its Cluster (when it cannot write the Cluster's status)",
		AnyOf: [][]Permission{{ClusterEventCreate}}, Effect: "the reason the Cluster's status goes stale is only in the agent's log"}
	RenewCertificate = Task{ID: "csr", Name: "renew its client certificate",
		AnyOf: [][]Permission{{CSRCreate, CSRGet}}, Effect: "the certificate is not renewed before it expires"}
	ReadPolicies = Task{ID: "policies", Name: "list and watch OverridePolicies and ClusterOverridePolicies (--render-overrides=Always)",
		AnyOf:  [][]Permission{{OverridePolicyList, OverridePolicyWatch, ClusterOverridePolicyList, ClusterOverridePolicyWatch}},
		Effect: "manifests are not applied, since they cannot be rendered"}
	ReadCustomizations = Task{ID: "customizations", Name: "list and watch ResourceInterpreterCustomizations",
		AnyOf:  [][]Permission{{CustomizationList, CustomizationWatch}},
		Effect: "their Lua scripts are not run: the built-in rules alone reflect status, judge health and retain values"}
	ReportEndpointSlices = Task{ID: "endpointslices", Name: "report exported EndpointSlices as Works in its execution namespace (serviceExport, endpointsliceCollect)",
		AnyOf:  [][]Permission{{WorkList, WorkWatch, WorkGet, WorkCreate, WorkUpdate, WorkDelete}},
		Effect: "the member's exported Services get no endpoints on the control plane, and Works reported earlier are not removed"}
	ReportCredentials = Task{ID: "credentials", Name: "write its member credentials to the Secret <C> in the cluster namespace (--report-secrets=KubeCredentials)",
		AnyOf:  [][]Permission{{CredentialsSecretGet, CredentialsSecretPatch, SecretCreate}},
		Effect: "the control plane gets no token for the member, so its cluster proxy, karmada-search and metrics adapter cannot reach it (a Secret reported earlier stays, and is not refreshed)"}
	ReportImpersonator = Task{ID: "impersonator", Name: "write its impersonator token to the Secret <C>-impersonator in the cluster namespace (--report-secrets=KubeImpersonator)",
		AnyOf:  [][]Permission{{ImpersonatorSecretGet, ImpersonatorSecretPatch, SecretCreate}},
		Effect: "the control plane gets no impersonator token, so requests through its cluster proxy cannot act as their users in the member (a Secret reported earlier stays, and is not refreshed)"}
)

// AllTasks are every task the agent may do on the hub, whatever its
// options: the union that the hub's grant ('tether-agent register', the
// approver, the tests' GrantAgent) is built from (Rules).
func AllTasks() []Task {
	return []Task{WatchWorks, WorkFinalizer, WriteWorkStatus, WatchCluster, WriteClusterStatus, CreateCluster, UpdateClusterSpec,
		Unregister, RenewLease, PostEvents, WarnOnCluster, RenewCertificate, ReadPolicies, ReadCustomizations, ReportEndpointSlices, ReportCredentials, ReportImpersonator}
}

// Needs are the tasks of an agent that runs what the options say.
type Needs struct {
	// Works: the Work sync runs.
	Works bool
	// ClusterStatus: the cluster status and the heartbeat run.
	ClusterStatus bool
	// Rotation: the certificate is renewed through the hub.
	Rotation bool
	// RenderAlways: --render-overrides=Always, which cannot do without
	// policies. With Auto, no policy access means no edge rendering: a
	// Karmada control plane renders the overrides itself.
	RenderAlways bool
	// EndpointSlices: serviceExport or endpointsliceCollect runs.
	EndpointSlices bool
	// Credentials and Impersonator: --report-secrets reports them.
	Credentials, Impersonator bool
}

// Tasks lists the tasks of n. Creating and updating the Cluster are not
// among them: they are needed only when the Cluster is missing or its spec
// differs, which the join finds out.
func (n Needs) Tasks() []Task {
	var out []Task
	if n.Works {
		out = append(out, WatchWorks, WorkFinalizer, WriteWorkStatus, PostEvents, ReadCustomizations)
		if n.RenderAlways {
			out = append(out, ReadPolicies)
		}
	}
	if n.ClusterStatus {
		out = append(out, WatchCluster, WriteClusterStatus, RenewLease)
	}
	if n.Rotation {
		out = append(out, RenewCertificate)
	}
	if n.EndpointSlices {
		out = append(out, ReportEndpointSlices)
	}
	if n.Credentials {
		out = append(out, ReportCredentials)
	}
	if n.Impersonator {
		out = append(out, ReportImpersonator)
	}
	return out
}

// Using returns the alternative of t that s holds (the first one), or nil.
func (s Set) Using(t Task) []Permission {
	for _, alt := range t.AnyOf {
		if s.HasAll(alt...) {
			return alt
		}
	}
	return nil
}

// Can reports whether s holds some alternative of t.
func (s Set) Can(t Task) bool { return s.Using(t) != nil }
