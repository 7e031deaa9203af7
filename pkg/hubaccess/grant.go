package hubaccess

import (
	"fmt"
	"strings"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// kubectlResource is a rule's resource as kubectl create role takes it:
// resource.group/subresource.
func kubectlResource(group, resourcePath string) string {
	res, sub, _ := strings.Cut(resourcePath, "/")
	if group != "" {
		res += "." + group
	}
	if sub != "" {
		res += "/" + sub
	}
	return res
}

// grantCommands are the kubectl commands that grant the preferred
// alternative of t to the agent of cluster, with the default cluster namespace.
func grantCommands(cluster string, t Task) []string {
	return grantCommandsIn(where{cluster: cluster}, t)
}

// grantCommandsIn are the kubectl commands that grant the preferred
// alternative of t to the agent of w: a Role (or ClusterRole) and its
// binding per rule of PreferredRules.
func grantCommandsIn(w where, t Task) []string {
	cluster := w.cluster
	user := clusterv1alpha1.AgentUser(cluster)
	var out []string
	for i, r := range rulesOf(w, t.AnyOf[0]) {
		name := fmt.Sprintf("tether:agent:%s:%s", cluster, t.ID)
		if i > 0 {
			name = fmt.Sprintf("%s-%d", name, i+1)
		}
		var resources []string
		for _, res := range r.Resources {
			resources = append(resources, kubectlResource(r.APIGroups[0], res))
		}
		args := fmt.Sprintf("--verb=%s --resource=%s", strings.Join(r.Verbs, ","), strings.Join(resources, ","))
		for _, n := range r.ResourceNames {
			args += " --resource-name=" + n
		}
		if r.Namespace == "" {
			out = append(out, fmt.Sprintf("kubectl create clusterrole %s %s && kubectl create clusterrolebinding %s --clusterrole=%s --user=%s",
				name, args, name, name, user))
			continue
		}
		out = append(out, fmt.Sprintf("kubectl create role %s -n %s %s && kubectl create rolebinding %s -n %s --role=%s --user=%s",
			name, r.Namespace, args, name, r.Namespace, name, user))
	}
	return out
}
