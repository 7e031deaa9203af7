package migrate

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	"k8s.io/apimachinery/pkg/api/equality"
)

// Rollback restores the karmada-agent Deployment migrate recorded. It is
// idempotent: a Deployment that runs karmada-agent without the annotation has
// nothing to roll back, and an interrupted rollback is finished.
func Rollback(ctx context.Context, cfg Config) error {
	m, d, rec, err := start(ctx, cfg)
	if err != nil {
		return err
	}
	c := d.Spec.Template.Spec.Containers[0]
	if rec == nil {
		if isKarmadaAgent(c) {
			m.step("Deployment %s/%s runs karmada-agent and has no migration record: nothing to roll back", d.Namespace, d.Name)
			return nil
		}
		return fmt.Errorf("Deployment %s/%s has no migration record (annotation %s), so there is no karmada-agent to go back to: "+
			"it was not switched by 'tether-agent migrate' (a cluster registered with 'tether-agent register' is removed with 'tether-agent unregister')",
			d.Namespace, d.Name, PreviousAgentAnnotation)
	}
	m.step("Deployment %s/%s runs image %s; rolling back to karmada-agent image %s", d.Namespace, d.Name, c.Image, rec.Container.Image)
	switched := !equality.Semantic.DeepEqual(c, rec.Container)
	m.step("Deployment changes:")
	for _, line := range changes(c, rec.Container, d.Spec.Strategy, rec.Strategy) {
		m.step("  %s", line)
	}
	if switched {
		m.step("  strategy: %s for the switch, then back to %s", recreate.Type, rec.Strategy.Type)
	}
	m.step("  annotation %s: removed", PreviousAgentAnnotation)
	if m.cfg.DryRun {
		m.step("Dry run: nothing was written")
		return nil
	}
	if switched {
		d.Spec.Template.Spec.Containers[0] = rec.Container
		d.Spec.Strategy = recreate
		if d, err = m.update(ctx, d); err != nil {
			return err
		}
		m.step("Deployment switched back to karmada-agent with the Recreate strategy: Tether's pods stop (and release karmada-agent's hub Lease) before karmada-agent's start")
	}
	if err := m.waitRollout(ctx, d); err != nil {
		return err
	}
	err = m.restoreStrategy(ctx, rec.Strategy, func(d *appsv1.Deployment) { delete(d.Annotations, PreviousAgentAnnotation) })
	if err != nil {
		return err
	}
	m.step("Rolled back: the Deployment is karmada-agent's as recorded, migration record removed")
	return nil
}
