package cluster

import "github.com/tether-io/tether/pkg/hubaccess"

// HubTasks are the hub tasks of this package's code for the agent's own
// cluster: watch its Cluster (Join, the StatusController), create it when
// missing and patch its spec (Join), write its status (the
// StatusController), renew its heartbeat Lease (the Heartbeat), and, with
// credentials, write its credentials Secrets. Tests grant
// hubaccess.PreferredRules of them; registration grants the union of every
// component's tasks (hubaccess.AllTasks).
func HubTasks(credentials bool) []hubaccess.Task {
	tasks := []hubaccess.Task{hubaccess.WatchCluster, hubaccess.CreateCluster, hubaccess.UpdateClusterSpec,
		hubaccess.WriteClusterStatus, hubaccess.RenewLease}
	if credentials {
		tasks = append(tasks, hubaccess.ReportCredentials, hubaccess.ReportImpersonator)
	}
	return tasks
}
