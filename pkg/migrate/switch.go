package migrate

import (
	"context"
	"fmt"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// Migrate switches the member's karmada-agent Deployment to Tether. It is
// idempotent: on a migrated Deployment it finishes what an interrupted run
// left (the rollout and the strategy) and changes nothing else.
func Migrate(ctx context.Context, cfg Config) error {
	m, d, rec, err := start(ctx, cfg)
	if err != nil {
		return err
	}
	c := d.Spec.Template.Spec.Containers[0]
	if rec != nil {
		return m.resume(ctx, d, rec)
	}
	if !isKarmadaAgent(c) {
		return fmt.Errorf("Deployment %s/%s runs %q, not karmada-agent, and has no migration record: nothing to migrate "+
			"(a cluster registered with tether-agent register runs Tether already)", d.Namespace, d.Name, c.Image)
	}
	cluster, _ := flagValue(agentFlags(c), "cluster-name")
	if cluster == "" {
		return fmt.Errorf("Deployment %s/%s: the first container has no --cluster-name= argument; is it karmadactl's karmada-agent Deployment?", d.Namespace, d.Name)
	}
	m.step("Deployment %s/%s runs karmada-agent (image %s) for cluster %s", d.Namespace, d.Name, c.Image, cluster)
	if err := m.checkIdentity(ctx, d, cluster); err != nil {
		return err
	}
	next := tetherContainer(c, m.cfg.Image)
	m.printChanges(c, next, d.Spec.Strategy)
	if m.cfg.DryRun {
		return m.dryRun(ctx, d, cluster)
	}
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	rec = &previousAgent{Container: c, Strategy: d.Spec.Strategy}
	d.Annotations[PreviousAgentAnnotation] = rec.encode()
	d.Spec.Template.Spec.Containers[0] = next
	d.Spec.Strategy = recreate
	if d, err = m.update(ctx, d); err != nil {
		return err
	}
	m.step("Deployment switched to Tether with the Recreate strategy: karmada-agent's pods stop before Tether's start, " +
		"and Tether starts its controllers only once it holds karmada-agent's hub Lease")
	if err := m.finish(ctx, d, rec.Strategy); err != nil {
		return err
	}
	m.step("Migrated: cluster %s is served by Tether ('tether-agent migrate --rollback' goes back to karmada-agent)", cluster)
	return nil
}

// checkIdentity shows the identity the Tether agent reuses: the Secret
// and certificate, the Cluster and karmada-agent's Lease on the hub. It
// fails only when the hub credentials cannot be read from the member.
func (m *migration) checkIdentity(ctx context.Context, d *appsv1.Deployment, cluster string) error {
	kc, err := m.hubIdentity(ctx, d)
	if err != nil {
		return err
	}
	hub, err := newHubClients(kc)
	if err != nil {
		return err
	}
	leaseNS, ok := flagValue(agentFlags(d.Spec.Template.Spec.Containers[0]), "leader-elect-resource-namespace")
	if !ok || leaseNS == "" {
		leaseNS = clusterv1alpha1.AgentNamespace
	}
	m.checkHub(ctx, hub, cluster, leaseNS)
	m.hub = hub
	return nil
}

func (m *migration) printChanges(from, to corev1.Container, strategy appsv1.DeploymentStrategy) {
	m.step("Deployment changes:")
	for _, line := range changes(from, to, strategy, recreate) {
		m.step("  %s", line)
	}
	if strategy.Type != recreate.Type {
		m.step("  strategy: back to %s once the rollout has finished", strategy.Type)
	}
	m.step("  annotation %s: the previous container and strategy, for --rollback", PreviousAgentAnnotation)
	m.step("  kept: every karmada-agent flag (karmadactl reads --karmada-kubeconfig= from the first container), " +
		"the names karmadactl uses (Deployment, Secret, ServiceAccount, ClusterRole and ClusterRoleBinding), the volumes and the service account")
}

func (m *migration) dryRun(ctx context.Context, d *appsv1.Deployment, cluster string) error {
	m.step("Member objects whose field ownership moves from karmada-agent to Tether (the agent does it on first contact; their content is unchanged):")
	if err := m.ownershipPlan(ctx, m.hub, cluster); err != nil {
		m.step("Warning: cannot list them from here: %v", err)
	}
	m.step("Dry run: nothing was written")
	return nil
}

// resume handles a Deployment that carries a migration record.
func (m *migration) resume(ctx context.Context, d *appsv1.Deployment, rec *previousAgent) error {
	c := d.Spec.Template.Spec.Containers[0]
	if isKarmadaAgent(c) {
		return fmt.Errorf("Deployment %s/%s runs karmada-agent but still carries the migration record %s: a rollback was interrupted; "+
			"run 'tether-agent migrate --rollback' to finish it, then migrate again", d.Namespace, d.Name, PreviousAgentAnnotation)
	}
	m.step("Deployment %s/%s already runs Tether (image %s); migrated from karmada-agent image %s", d.Namespace, d.Name, c.Image, rec.Container.Image)
	if m.cfg.DryRun {
		if !equality.Semantic.DeepEqual(d.Spec.Strategy, rec.Strategy) {
			m.step("  strategy: %s -> %s once the rollout has finished", d.Spec.Strategy.Type, rec.Strategy.Type)
		}
		m.step("Dry run: nothing was written")
		return nil
	}
	if err := m.finish(ctx, d, rec.Strategy); err != nil {
		return err
	}
	m.step("Migrated: nothing left to do")
	return nil
}

// finish waits for the rollout and then restores the strategy the
// Deployment had before the switch.
func (m *migration) finish(ctx context.Context, d *appsv1.Deployment, strategy appsv1.DeploymentStrategy) error {
	if err := m.waitRollout(ctx, d); err != nil {
		return err
	}
	return m.restoreStrategy(ctx, strategy, func(*appsv1.Deployment) {})
}

// restoreStrategy sets the Deployment's strategy back (a strategy change
// starts no rollout), with edit applied in the same write.
func (m *migration) restoreStrategy(ctx context.Context, strategy appsv1.DeploymentStrategy, edit func(*appsv1.Deployment)) error {
	d, err := m.deployment(ctx)
	if err != nil {
		return err
	}
	before := d.DeepCopy()
	d.Spec.Strategy = strategy
	edit(d)
	if equality.Semantic.DeepEqual(before, d) {
		return nil
	}
	if _, err := m.update(ctx, d); err != nil {
		return err
	}
	m.step("Strategy restored to %s", strategy.Type)
	return nil
}
