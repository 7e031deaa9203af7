package execution

import "k8s.io/client-go/tools/cache"

// ClusterInformer is the informer of the agent's own Cluster on the hub
// (selected by name, without managedFields), which Run starts. Other
// controllers of the process share it instead of watching the Cluster again.
func (c *Controller) ClusterInformer() cache.SharedIndexInformer {
	return c.clusterFactory.Cluster().V1alpha1().Clusters().Informer()
}
