package hub

import (
	"context"
	"errors"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// Markers of a Karmada control plane. Neither is on a hub that 'hub init'
// prepared: Tether's CRDs serve work.karmada.io/v1alpha1 only, and the
// APIService of their cluster.karmada.io group is local (no service).
const (
	// karmadaBindingsGroupVersion serves Karmada's ResourceBindings.
	karmadaBindingsGroupVersion = "work.karmada.io/v1alpha2"
	// karmadaClusterAPIService is served by karmada-aggregated-apiserver.
	karmadaClusterAPIService = "v1alpha1.cluster.karmada.io"
)

var apiServices = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}

// KarmadaControlPlaneError is returned by RefuseKarmada.
type KarmadaControlPlaneError struct {
	// Marker names what identified the control plane.
	Marker string
}

func (e *KarmadaControlPlaneError) Error() string {
	return fmt.Sprintf("this hub is a Karmada control plane (it has %s): Karmada's own CSR approver (the agentcsrapproving controller "+
		"of karmada-controller-manager) approves agent certificates there, and registration creates each cluster's RBAC itself. "+
		"'tether-agent hub init' and 'hub approver' are for a plain Kubernetes hub only; on this one, do not run them and "+
		"register members directly with 'tether-agent register' (or 'karmadactl register')", e.Marker)
}

// RefuseKarmada returns a *KarmadaControlPlaneError when the apiserver of
// cfg is a Karmada control plane: it serves Karmada's ResourceBindings, or
// its Clusters through Karmada's aggregated apiserver. A marker it may not
// read counts as absent.
func RefuseKarmada(ctx context.Context, cfg *rest.Config) error {
	switch bindings, err := ServesKarmadaBindings(cfg); {
	case err != nil:
		return err
	case bindings:
		return &KarmadaControlPlaneError{Marker: "the API resourcebindings." + karmadaBindingsGroupVersion}
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return err
	}
	svc, err := dyn.Resource(apiServices).Get(ctx, karmadaClusterAPIService, metav1.GetOptions{})
	switch {
	case err == nil && svc.Object["spec"] != nil:
		if s, ok := svc.Object["spec"].(map[string]any)["service"]; ok && s != nil {
			return &KarmadaControlPlaneError{Marker: "the APIService " + karmadaClusterAPIService + " served by an aggregated apiserver"}
		}
	case err != nil && !ignorable(err):
		return fmt.Errorf("check whether the hub is a Karmada control plane (APIService %s): %w", karmadaClusterAPIService, err)
	}
	return nil
}

// ServesKarmadaBindings reports whether the apiserver of cfg serves
// Karmada's ResourceBindings, which only a Karmada control plane does. It
// reads discovery only, which every authenticated identity may, so an
// agent can ask it without a refused request.
func ServesKarmadaBindings(cfg *rest.Config) (bool, error) {
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return false, err
	}
	resources, err := disc.ServerResourcesForGroupVersion(karmadaBindingsGroupVersion)
	switch {
	case err == nil:
		return slices.ContainsFunc(resources.APIResources, func(r metav1.APIResource) bool { return r.Name == "resourcebindings" }), nil
	case ignorable(err):
		return false, nil
	}
	return false, fmt.Errorf("check whether the hub is a Karmada control plane (discovery of %s): %w", karmadaBindingsGroupVersion, err)
}

func ignorable(err error) bool {
	return apierrors.IsNotFound(err) || apierrors.IsForbidden(err)
}

// IsKarmadaControlPlane reports whether err is RefuseKarmada's refusal.
func IsKarmadaControlPlane(err error) bool {
	var k *KarmadaControlPlaneError
	return errors.As(err, &k)
}
