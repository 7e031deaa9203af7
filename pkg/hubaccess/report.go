package hubaccess

import (
	"fmt"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// Report is what a probed Set means for the agent's tasks.
type Report struct {
	Cluster string
	// ClusterNamespace is the hub namespace of the credentials Secrets
	// (empty: karmada-cluster).
	ClusterNamespace string
	// Missing are the tasks none of whose alternatives is granted.
	Missing []Gap
	// Fallbacks are the tasks done with an alternative that is not the
	// preferred one, and the permissions used instead.
	Fallbacks []Fallback
}

// Gap is a task the agent cannot do.
type Gap struct {
	Task Task
	// Detail, if set, says more (the spec fields left as they are).
	Detail string
}

// Fallback is a task done with a second-choice alternative.
type Fallback struct {
	Task  Task
	Using []Permission
}

// Assess sorts the tasks into those s lets the agent do only by a fallback
// and those it cannot do.
func Assess(cluster string, s Set, tasks []Task) Report {
	r := Report{Cluster: cluster, ClusterNamespace: s.clusterNamespace}
	for _, t := range tasks {
		using := s.Using(t)
		switch {
		case using == nil:
			r.Missing = append(r.Missing, Gap{Task: t})
		case !slices.Equal(using, t.AnyOf[0]):
			r.Fallbacks = append(r.Fallbacks, Fallback{Task: t, Using: using})
		}
	}
	return r
}

// AddMissing records a task found impossible after the probe.
func (r *Report) AddMissing(t Task, detail string) {
	r.Missing = append(r.Missing, Gap{Task: t, Detail: detail})
}

// Condition is the Cluster condition HubPermissionsMissing: True naming
// each missing permission, what its absence does and the commands that
// grant it; False when the agent can do everything, saying which fallbacks
// it uses.
func (r Report) Condition() metav1.Condition {
	if len(r.Missing) == 0 {
		msg := "the agent's hub identity holds every permission it uses"
		if len(r.Fallbacks) > 0 {
			msg += ", or one it falls back to: " + r.FallbackSummary()
		}
		return metav1.Condition{Type: clusterv1alpha1.ClusterConditionHubPermissionsMissing, Status: metav1.ConditionFalse,
			Reason: clusterv1alpha1.ReasonHubPermissionsSufficient, Message: msg}
	}
	return metav1.Condition{Type: clusterv1alpha1.ClusterConditionHubPermissionsMissing, Status: metav1.ConditionTrue,
		Reason: clusterv1alpha1.ReasonHubPermissionsMissing, Message: r.Message()}
}

// Message says what the agent cannot do, why, and how to grant it.
func (r Report) Message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the agent's hub identity %s cannot ", clusterv1alpha1.AgentUser(r.Cluster))
	for i, g := range r.Missing {
		if i > 0 {
			b.WriteString("; nor ")
		}
		fmt.Fprintf(&b, "%s (needs %s), so %s", g.Task.Name, alternatives(g.Task), g.Task.Effect)
		if g.Detail != "" {
			fmt.Fprintf(&b, " (%s)", g.Detail)
		}
	}
	b.WriteString(". Grant it on the hub with: ")
	b.WriteString(strings.Join(r.Commands(), " && "))
	b.WriteString("; the agent checks its permissions again when it restarts")
	return b.String()
}

// FallbackSummary names the fallbacks in use, as "update works for: add and
// remove the finalizer of its Works".
func (r Report) FallbackSummary() string {
	var parts []string
	for _, f := range r.Fallbacks {
		parts = append(parts, fmt.Sprintf("%s to %s", joinPermissions(f.Using, " and "), f.Task.Name))
	}
	return strings.Join(parts, "; ")
}

// alternatives names the alternatives of t, as "patch clusters/status, or
// update and get clusters/status".
func alternatives(t Task) string {
	var alts []string
	for _, alt := range t.AnyOf {
		alts = append(alts, joinPermissions(alt, " and "))
	}
	return strings.Join(alts, ", or ")
}

func joinPermissions(ps []Permission, sep string) string {
	var names []string
	for _, p := range ps {
		names = append(names, p.String())
	}
	return strings.Join(names, sep)
}

// Commands are the kubectl commands that grant the preferred alternative
// of every missing task to the agent's user, one Role (or ClusterRole) and
// binding per namespace and name restriction.
func (r Report) Commands() []string {
	var out []string
	for _, g := range r.Missing {
		out = append(out, grantCommandsIn(where{cluster: r.Cluster, clusterNamespace: r.ClusterNamespace}, g.Task)...)
	}
	return out
}
