package agent

import (
	"context"
	"time"

	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"

	"github.com/tether-io/tether/pkg/mcs"
	"github.com/tether-io/tether/pkg/register/hub"
)

// mcsRuns builds the EndpointSlice reporter when --controllers enables
// serviceExport or endpointsliceCollect (nothing otherwise). It shares the
// Work controller's informer of the execution namespace when there is one
// (works; nil: it watches the namespace itself).
func mcsRuns(ctx context.Context, o *Options, c *clients, works cache.SharedIndexInformer) ([]func(context.Context) error, error) {
	se, collect := o.enabled("serviceExport"), o.enabled("endpointsliceCollect")
	if !se && !collect {
		return nil, nil
	}
	exports, err := mcsclient.NewForConfig(c.memberConfig)
	if err != nil {
		return nil, err
	}
	crds, err := apiextensionsclient.NewForConfig(c.memberConfig)
	if err != nil {
		return nil, err
	}
	ctrl, err := mcs.New(mcs.Config{ClusterName: o.ClusterName, Hub: c.hubKarmada, Member: c.memberKube, Exports: exports, CRDs: crds,
		ServiceExport: se, Collect: collect, ControlPlane: hubIsKarmada(ctx, c.hubConfig), Works: works})
	if err != nil {
		return nil, err
	}
	return []func(context.Context) error{ctrl.Run}, nil
}

// hubIsKarmada reports whether the hub is a Karmada control plane (it
// serves ResourceBindings: discovery only, so the agent's identity makes
// no refused request), whose controllers remove the finalizers of
// reported Works. Discovery that keeps
// failing counts as yes: a finalizer left on a plain hub holds a Work in
// deletion, while a Work deleted without it on a Karmada control plane
// leaves the derived EndpointSlices behind.
func hubIsKarmada(ctx context.Context, cfg *rest.Config) bool {
	var karmada bool
	err := wait.PollUntilContextTimeout(ctx, 2*time.Second, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		served, err := hub.ServesKarmadaBindings(cfg)
		karmada = served
		return err == nil, nil
	})
	if err != nil {
		klog.FromContext(ctx).Info("Could not tell whether the hub is a Karmada control plane; reported Works get Karmada's finalizers", "err", err)
		return true
	}
	return karmada
}
