package execution

import "k8s.io/client-go/tools/cache"

// ClusterInformer is the informer of the agent's own Cluster on the hub
// (selected by name, without managedFields), which Run starts. Other
// controllers of the process share it instead of watching the Cluster again.
func (c *Controller) ClusterInformer() cache.SharedIndexInformer {
	return c.clusterFactory.Cluster().V1alpha1().Clusters().Informer()
}

// WorkInformer is the informer of every Work in the agent's execution
// namespace on the hub (without managedFields), which Run starts. The
// EndpointSlice reporter shares it for the Works it writes there instead of
// watching that namespace a second time (docs/scale.md).
func (c *Controller) WorkInformer() cache.SharedIndexInformer {
	return c.hubFactory.Work().V1alpha1().Works().Informer()
}
