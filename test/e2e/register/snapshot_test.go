package register_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// snapshotResources are the kinds whose objects registration may create
// on either side.
var snapshotResources = []schema.GroupVersionResource{
	{Version: "v1", Resource: "namespaces"},
	{Version: "v1", Resource: "secrets"},
	{Version: "v1", Resource: "serviceaccounts"},
	{Version: "v1", Resource: "configmaps"},
	{Version: "v1", Resource: "pods"},
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "replicasets"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterrolebindings"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "roles"},
	{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "rolebindings"},
	{Group: "coordination.k8s.io", Version: "v1", Resource: "leases"},
	{Group: "certificates.k8s.io", Version: "v1", Resource: "certificatesigningrequests"},
	{Group: "cluster.karmada.io", Version: "v1alpha1", Resource: "clusters"},
	{Group: "work.karmada.io", Version: "v1alpha1", Resource: "works"},
}

// snapshot lists every object of those kinds a cluster serves, as
// "resource namespace/name". Bootstrap token Secrets are left out: they
// belong to the hub administrator, not to a registration.
func snapshot(ctx context.Context, cfg *rest.Config) (sets.Set[string], error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	out := sets.New[string]()
	for _, gvr := range snapshotResources {
		list, err := dyn.Resource(gvr).List(ctx, metav1.ListOptions{})
		if err != nil {
			if strings.Contains(err.Error(), "the server could not find the requested resource") {
				continue // a member does not serve the Karmada kinds
			}
			return nil, fmt.Errorf("list %s: %w", gvr.Resource, err)
		}
		for _, o := range list.Items {
			if t, _, _ := unstructuredString(o.Object, "type"); t == "bootstrap.kubernetes.io/token" {
				continue
			}
			out.Insert(fmt.Sprintf("%s %s/%s", gvr.Resource, o.GetNamespace(), o.GetName()))
		}
	}
	return out, nil
}

func unstructuredString(obj map[string]any, key string) (string, bool, error) {
	v, ok := obj[key].(string)
	return v, ok, nil
}

// waitSame polls until the cluster's snapshot equals before and returns
// the differences it last saw.
func waitSame(ctx context.Context, cfg *rest.Config, before sets.Set[string], timeout time.Duration) (added, removed []string) {
	_ = wait.PollUntilContextTimeout(ctx, time.Second, timeout, true, func(ctx context.Context) (bool, error) {
		now, err := snapshot(ctx, cfg)
		if err != nil {
			return false, nil
		}
		added, removed = sets.List(now.Difference(before)), sets.List(before.Difference(now))
		return len(added) == 0 && len(removed) == 0, nil
	})
	slices.Sort(added)
	return added, removed
}
