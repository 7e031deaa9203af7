package execution

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/override"
)

// errNoCluster: the Cluster object is not in the hub cache yet, so policies
// that select clusters cannot be matched; rendering waits rather than drop
// their overrides silently.
var errNoCluster = errors.New("the Cluster object is not in the agent's hub cache yet; overrides wait for it (retrying)")

// errPoliciesDenied fails the manifests that --render-overrides=Always
// would render when the hub identity may not read the policies: applied
// unrendered, they would be wrong on this cluster.
var errPoliciesDenied = errors.New("overrides cannot be rendered: the agent's hub identity may not list and watch OverridePolicies and " +
	"ClusterOverridePolicies (--render-overrides=Always); grant them (the Cluster's HubPermissionsMissing condition says how) or run with --render-overrides=Auto")

// render runs the edge overrides into the manifests (manifest.Render),
// unless the hub already did (override.ShouldRender). The error returned is
// transient (the Cluster is not cached yet); the manifests it concerns are
// failed with it.
func (c *Controller) render(work *workv1alpha1.Work, ms []manifest.Manifest) error {
	if ok, _ := override.ShouldRender(c.cfg.RenderMode, work); !ok {
		return nil
	}
	if c.cops == nil && c.cfg.RenderMode == override.ModeAlways && !c.cfg.Access.CanReadPolicies() {
		for i := range ms {
			if ms[i].Usable() {
				ms[i].Fail(errPoliciesDenied)
			}
		}
		return nil // permanent until the identity is granted the policies and the agent restarts
	}
	policies := override.Policies{}
	if c.cops != nil {
		policies.ClusterOverridePolicies, _ = c.cops.List(everything)
		policies.OverridePolicies, _ = c.ops.List(everything)
	}
	if len(policies.ClusterOverridePolicies) == 0 && len(policies.OverridePolicies) == 0 {
		return nil
	}
	cluster, err := c.clusters.Get(c.cfg.ClusterName)
	if err != nil {
		if !apierrors.IsNotFound(err) {
			err = fmt.Errorf("read the Cluster object from the hub cache: %w", err)
		} else {
			err = errNoCluster
		}
		for i := range ms {
			if ms[i].Usable() {
				ms[i].Fail(err)
			}
		}
		return err
	}
	manifest.Render(ms, cluster, policies)
	return nil
}
