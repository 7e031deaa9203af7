package manifest

import (
	"fmt"
	"strings"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/override"
)

// Render runs the override policies into the usable manifests for cluster,
// as the agent does at the edge, and as 'tether-agent diff' previews it.
// Whether a Work is rendered at all is override.ShouldRender's decision;
// Render does nothing when there is no policy. A policy fault fails only
// the manifests it touches, and so does an override that would change a
// manifest's identity (apiVersion, kind, namespace or name): an object moved
// or renamed by a policy would be written where its Work does not say, and
// orphaned on delete. A rendered manifest's Object carries the
// applied-overrides annotations: on the member object, not on the Work,
// where they would mean the hub rendered it.
func Render(ms []Manifest, cluster *clusterv1alpha1.Cluster, policies override.Policies) {
	if len(policies.ClusterOverridePolicies) == 0 && len(policies.OverridePolicies) == 0 {
		return
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
		if changed := identityChanges(m.ID, IdentityOf(res.Object)); len(changed) > 0 {
			m.Fail(fmt.Errorf("%s: overrides change its %s (%s); an override may not move or rename an object: fix the policy",
				m.ID, strings.Join(changed, ", "), policiesOf(res)))
			continue
		}
		m.Object = res.Object
	}
}

// identityChanges names the identity fields that differ from before to after.
func identityChanges(before, after Identity) []string {
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
