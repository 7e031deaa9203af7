package execution

import (
	"errors"
	"fmt"
	"strings"

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

// render runs the edge overrides into the manifests, unless the hub already
// did. A policy fault fails only the manifests it touches, and so does an
// override that would change a manifest's identity (apiVersion, kind,
// namespace or name): an object moved or renamed by a policy would be
// written where its Work does not say, and orphaned on delete. The error
// returned is transient (the Cluster is not cached yet); the manifests it
// concerns are failed with it.
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
	for i := range ms {
		m := &ms[i]
		if !m.Usable() {
			continue
		}
		res, err := override.Render(m.Object, cluster, policies)
		if err != nil {
			m.Fail(fmt.Errorf("overrides could not be rendered: %w", err)) // err names the object and the policy
			continue
		}
		if changed := identityChanges(m.ID, manifest.IdentityOf(res.Object)); len(changed) > 0 {
			m.Fail(fmt.Errorf("%s: overrides change its %s (%s); an override may not move or rename an object: fix the policy",
				m.ID, strings.Join(changed, ", "), policiesOf(res)))
			continue
		}
		// res.Object carries the applied-overrides annotations: on the
		// member object, not on the Work, where they would mean the hub rendered it.
		m.Object = res.Object
	}
	return nil
}

// identityChanges names the identity fields that differ from before to after.
func identityChanges(before, after manifest.Identity) []string {
	var out []string
	if before.Group != after.Group || before.Version != after.Version {
		out = append(out, "apiVersion")
	}
	if before.Kind != after.Kind {
		out = append(out, "kind")
	}
	if before.Namespace != after.Namespace {
		out = append(out, "namespace")
	}
	if before.Name != after.Name {
		out = append(out, "name")
	}
	return out
}

// policiesOf names the policies that edited a rendered manifest.
func policiesOf(res *override.Result) string {
	var names []string
	seen := map[string]bool{}
	for _, ch := range res.Changes {
		n := ch.Policy.String()
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return "by " + strings.Join(names, ", ")
}
