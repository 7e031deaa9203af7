package v1alpha1

// Condition types of a Cluster.
const (
	// ClusterConditionReady says whether the member is healthy and ready to accept workloads.
	ClusterConditionReady = "Ready"
	// ClusterConditionCompleteAPIEnablements says whether apiEnablements is complete.
	ClusterConditionCompleteAPIEnablements = "CompleteAPIEnablements"
)

// Reasons and messages of the Ready condition, exactly as karmada-agent writes them.
const (
	ReasonClusterReady           = "ClusterReady"
	ReasonClusterNotReady        = "ClusterNotReady"
	ReasonClusterNotReachable    = "ClusterNotReachable"
	ReasonStatusCollectionFailed = "StatusCollectionFailed"

	MessageClusterReady        = "cluster is healthy and ready to accept workloads"
	MessageClusterNotReady     = "cluster is reachable but health endpoint responded without ok"
	MessageClusterNotReachable = "cluster is not reachable"
	// MessageStatusCollectionFailedFormat takes the error.
	MessageStatusCollectionFailedFormat = "failed to create a ClusterClient: %v"
)

// Reasons and messages of the CompleteAPIEnablements condition.
const (
	ReasonAPIEnablementsComplete = "Complete"
	ReasonAPIEnablementsPartial  = "Partial"
	ReasonAPIEnablementsEmpty    = "Empty"

	MessageAPIEnablementsComplete = "collected complete APIEnablements from the cluster"
	// MessageAPIEnablementsPartialFormat takes the number of collected group versions.
	MessageAPIEnablementsPartialFormat = "might collect partial APIEnablements(%d) from the cluster"
	MessageAPIEnablementsEmpty         = "collected empty APIEnablements from the cluster"
)

// Finalizers.
const (
	// ClusterControllerFinalizer is added to a Cluster by the hub's cluster controller.
	ClusterControllerFinalizer = "karmada.io/cluster-controller"
)

// Taint keys the hub's cluster controller manages.
const (
	TaintClusterUnscheduler = "cluster.karmada.io/unschedulable"
	TaintClusterNotReady    = "cluster.karmada.io/not-ready"
	TaintClusterUnreachable = "cluster.karmada.io/unreachable"
)

// Hub namespaces and names used for the member's heartbeat and credentials.
const (
	// LeaseNamespace holds one heartbeat Lease per cluster, named after the cluster.
	LeaseNamespace = "karmada-cluster"
	// DefaultClusterNamespace holds the credentials secrets reported by agents.
	DefaultClusterNamespace = "karmada-cluster"
	// MaxClusterNameLength leaves room for the "karmada-es-" prefix in a namespace name.
	MaxClusterNameLength = 48
)

// AgentNamespace is the member namespace of the agent: its Deployment, the
// Secret karmada-kubeconfig and its leader-election Lease (karmadactl
// register's default --namespace).
const AgentNamespace = "karmada-system"

// AgentName is the name karmadactl register gives the agent's Deployment in
// AgentNamespace, and the prefix of its leader-election Lease.
const AgentName = "karmada-agent"

// Identity of an agent on the hub (CSR subject and groups).
const (
	// AgentUserPrefix is the CN prefix of an agent's client certificate.
	AgentUserPrefix = "system:karmada:agent:"
	// AgentGroup is the O of an agent's client certificate.
	AgentGroup = "system:karmada:agents"
)

// AgentUser returns the user name of the agent of cluster.
func AgentUser(cluster string) string { return AgentUserPrefix + cluster }

// Tether's own extensions on the Cluster object. Karmada ignores them.
const (
	// ClusterConditionDeletesHeld is True while the deletion guard holds back
	// the deletes of Works found terminating in bulk after the agent was away.
	ClusterConditionDeletesHeld = "DeletesHeld"
	// ReasonBulkDeletionHeld and ReasonNoDeletesHeld are its reasons.
	ReasonBulkDeletionHeld = "BulkDeletionHeld"
	ReasonNoDeletesHeld    = "NoDeletesHeld"

	// ConfirmDeletesAnnotation on the Cluster releases the deletes held at the
	// time it is set or changed (any new value; 'tether-agent deletes confirm'
	// writes the current time).
	ConfirmDeletesAnnotation = "tether.io/confirm-held-deletes"
)

// Tether's extension condition that says what the agent's hub identity
// lacks. Karmada ignores it.
const (
	// ClusterConditionHubPermissionsMissing is True when the agent's hub
	// identity lacks a permission it has no fallback for; its message names
	// each missing verb and resource, what the absence does, and the
	// kubectl commands that grant it. It is False when every task is
	// possible (its message names the fallbacks in use, such as Update
	// where Patch is not granted).
	ClusterConditionHubPermissionsMissing = "HubPermissionsMissing"
	// ReasonHubPermissionsMissing and ReasonHubPermissionsSufficient are its reasons.
	ReasonHubPermissionsMissing    = "HubPermissionsMissing"
	ReasonHubPermissionsSufficient = "HubPermissionsSufficient"
)
