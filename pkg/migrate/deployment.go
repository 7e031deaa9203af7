// Package migrate turns a member cluster registered by karmadactl and
// served by karmada-agent into a Tether member, and back (rollback). It
// keeps the cluster's identity (the kubeconfig Secret, its certificate and
// the Cluster object on the hub) and every name karmadactl's own tools look
// for, and changes only the agent Deployment: its image and command, with a
// Recreate strategy for the switch. What it changed is recorded on the
// Deployment so that a rollback restores it exactly. The handover itself is
// fenced by karmada-agent's leader Lease on the hub, which the Tether agent
// takes over (pkg/agent/leader).
package migrate

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"

	"github.com/tether-io/tether/pkg/agent/leader"
	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// PreviousAgentAnnotation holds, on a migrated Deployment, what migrate replaced:
// the first container as karmada-agent ran it and the update strategy.
const PreviousAgentAnnotation = "tether.io/migrated-from-karmada-agent"

// AgentDeployment is the name karmadactl gives the agent Deployment.
const AgentDeployment = clusterv1alpha1.AgentName

// TetherCommand is how Tether's image runs the agent.
var TetherCommand = []string{"tether-agent", "run"}

// previousAgent is PreviousAgentAnnotation's value: the karmada-agent container and
// update strategy that migrate replaced, so that a rollback restores them.
type previousAgent struct {
	Container corev1.Container          `json:"container"`
	Strategy  appsv1.DeploymentStrategy `json:"strategy"`
}

func readPreviousAgent(d *appsv1.Deployment) (*previousAgent, error) {
	raw, ok := d.Annotations[PreviousAgentAnnotation]
	if !ok {
		return nil, nil
	}
	r := &previousAgent{}
	if err := json.Unmarshal([]byte(raw), r); err != nil {
		return nil, fmt.Errorf("Deployment %s/%s: annotation %s is not a migration record: %w", d.Namespace, d.Name, PreviousAgentAnnotation, err)
	}
	return r, nil
}

func (r previousAgent) encode() string {
	raw, _ := json.Marshal(r)
	return string(raw)
}

// isKarmadaAgent reports whether c runs karmada-agent: its command (or,
// without one, its image's entry point) is the karmada-agent binary.
func isKarmadaAgent(c corev1.Container) bool {
	if len(c.Command) > 0 {
		return path.Base(c.Command[0]) == "karmada-agent"
	}
	return strings.Contains(path.Base(c.Image), "karmada-agent")
}

// agentFlags are the agent's flags in c, from its command and arguments.
func agentFlags(c corev1.Container) []string {
	var out []string
	if len(c.Command) > 1 {
		out = append(out, c.Command[1:]...)
	}
	return append(out, c.Args...)
}

// flagValue is the value of --name=value among args ("" when absent).
func flagValue(args []string, name string) (string, bool) {
	for _, a := range args {
		if v, ok := strings.CutPrefix(a, "--"+name+"="); ok {
			return v, true
		}
	}
	return "", false
}

// tetherContainer is c switched to Tether: the image, the command
// 'tether-agent run' followed by every karmada-agent flag as it was (the
// --karmada-kubeconfig= argument stays where karmadactl looks for it), and
// the pod's name and namespace from the downward API (the agent's leader
// Lease is owned by its Deployment).
func tetherContainer(c corev1.Container, image string) corev1.Container {
	out := *c.DeepCopy()
	out.Image = image
	out.Command = append(slices.Clone(TetherCommand), c.Command[min(1, len(c.Command)):]...)
	for _, env := range []struct{ name, field string }{
		{leader.PodNameEnv, "metadata.name"}, {leader.PodNamespaceEnv, "metadata.namespace"},
	} {
		if !slices.ContainsFunc(out.Env, func(e corev1.EnvVar) bool { return e.Name == env.name }) {
			out.Env = append(out.Env, corev1.EnvVar{Name: env.name, ValueFrom: &corev1.EnvVarSource{
				FieldRef: &corev1.ObjectFieldSelector{APIVersion: "v1", FieldPath: env.field}}})
		}
	}
	return out
}

// recreate is the strategy during a switch: the old pods are gone before
// the new one starts.
var recreate = appsv1.DeploymentStrategy{Type: appsv1.RecreateDeploymentStrategyType}

// changes describes, one line each, what turning from into to changes in
// the first container and the strategy.
func changes(from, to corev1.Container, fromStrategy, toStrategy appsv1.DeploymentStrategy) []string {
	var out []string
	if from.Image != to.Image {
		out = append(out, fmt.Sprintf("image: %s -> %s", from.Image, to.Image))
	}
	if !slices.Equal(from.Command, to.Command) {
		out = append(out, fmt.Sprintf("command: %s -> %s", strings.Join(from.Command, " "), strings.Join(to.Command, " ")))
	}
	if !slices.Equal(from.Args, to.Args) {
		out = append(out, fmt.Sprintf("args: %s -> %s", strings.Join(from.Args, " "), strings.Join(to.Args, " ")))
	}
	if !equality.Semantic.DeepEqual(from.Env, to.Env) {
		out = append(out, fmt.Sprintf("env: %s -> %s", envNames(from.Env), envNames(to.Env)))
	}
	rest, restTo := from.DeepCopy(), to.DeepCopy()
	rest.Image, rest.Command, rest.Args, rest.Env = "", nil, nil, nil
	restTo.Image, restTo.Command, restTo.Args, restTo.Env = "", nil, nil, nil
	if !equality.Semantic.DeepEqual(rest, restTo) {
		out = append(out, "container: other fields restored as recorded")
	}
	if !equality.Semantic.DeepEqual(fromStrategy, toStrategy) {
		out = append(out, fmt.Sprintf("strategy: %s -> %s", fromStrategy.Type, toStrategy.Type))
	}
	return out
}

func envNames(env []corev1.EnvVar) string {
	if len(env) == 0 {
		return "(none)"
	}
	names := make([]string, len(env))
	for i, e := range env {
		names[i] = e.Name
	}
	return strings.Join(names, ",")
}
