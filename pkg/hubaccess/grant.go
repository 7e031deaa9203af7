package hubaccess

import (
	"fmt"
	"slices"
	"strings"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// rule is the part of a task's grant that one kubectl command pair makes:
// every verb on every resource, in one namespace, with or without the
// cluster's name as the only resource name.
type rule struct {
	namespace string
	names     []string
	verbs     []string
	resources []string
}

// grantRules groups the preferred alternative of t by namespace and name
// restriction, in declaration order.
func grantRules(w where, t Task) []rule {
	var out []rule
	for _, p := range t.AnyOf[0] {
		s := specs[p]
		ns := s.namespace(w)
		i := slices.IndexFunc(out, func(r rule) bool { return r.namespace == ns && (len(r.names) > 0) == s.named })
		if i < 0 {
			out = append(out, rule{namespace: ns})
			i = len(out) - 1
		}
		if name := s.name(w.cluster); name != "" && !slices.Contains(out[i].names, name) {
			out[i].names = append(out[i].names, name)
		}
		if !slices.Contains(out[i].verbs, s.verb) {
			out[i].verbs = append(out[i].verbs, s.verb)
		}
		if res := kubectlResource(s); !slices.Contains(out[i].resources, res) {
			out[i].resources = append(out[i].resources, res)
		}
	}
	return out
}

// kubectlResource is the resource as kubectl create role takes it:
// resource.group/subresource.
func kubectlResource(s spec) string {
	res := s.resource
	if s.group != "" {
		res += "." + s.group
	}
	if s.subresource != "" {
		res += "/" + s.subresource
	}
	return res
}

// grantCommands are the kubectl commands that grant the preferred
// alternative of t to the agent of cluster, with the default cluster namespace.
func grantCommands(cluster string, t Task) []string {
	return grantCommandsIn(where{cluster: cluster}, t)
}

// grantCommandsIn are the kubectl commands that grant the preferred
// alternative of t to the agent of w.
func grantCommandsIn(w where, t Task) []string {
	cluster := w.cluster
	user := clusterv1alpha1.AgentUser(cluster)
	var out []string
	for i, r := range grantRules(w, t) {
		name := fmt.Sprintf("tether:agent:%s:%s", cluster, t.ID)
		if i > 0 {
			name = fmt.Sprintf("%s-%d", name, i+1)
		}
		args := fmt.Sprintf("--verb=%s --resource=%s", strings.Join(r.verbs, ","), strings.Join(r.resources, ","))
		for _, n := range r.names {
			args += " --resource-name=" + n
		}
		if r.namespace == "" {
			out = append(out, fmt.Sprintf("kubectl create clusterrole %s %s && kubectl create clusterrolebinding %s --clusterrole=%s --user=%s",
				name, args, name, name, user))
			continue
		}
		out = append(out, fmt.Sprintf("kubectl create role %s -n %s %s && kubectl create rolebinding %s -n %s --role=%s --user=%s",
			name, r.namespace, args, name, r.namespace, name, user))
	}
	return out
}
