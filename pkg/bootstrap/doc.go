// Package bootstrap is the member side of joining a hub and keeping the
// credentials it got: token discovery of the hub's kube-public/cluster-info
// (JWS check with k8s.io/cluster-bootstrap, CA pinned by its SPKI hash, then a
// second fetch with TLS verified), a client that authenticates with the
// bootstrap token, certificate signing requests for the Karmada agent
// identity (CN system:karmada:agent:<cluster>, O system:karmada:agents) and
// the wait for their approval, the hub kubeconfig, and the rotation of the
// agent's client certificate inside a running process.
//
// It is a library: the register command and the agent runtime call it; it
// prints nothing and logs through the logger in the context.
//
// The agent runtime builds its hub client from a Rotator, so that a renewed
// certificate is used without a restart:
//
//	store := bootstrap.NewSecretStore(member, kubeconfigNamespace, bootstrap.KubeconfigSecretName, bootstrap.KubeconfigSecretKey)
//	rot, err := bootstrap.NewRotator(ctx, bootstrap.RotatorConfig{
//		Store: store, Context: karmadaContext, Options: rotationOptions, // NewRotationOptions + AddFlags
//		Registerer: metricsRegistry, Leading: elector.IsLeader,
//	})
//	hubConfig, err := rot.ClientConfig() // set QPS, Burst, UserAgent on it
//	go rot.Run(ctx)
//
// Outside a cluster, NewFileStore(path) replaces the Secret store.
package bootstrap
