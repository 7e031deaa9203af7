// Package rollout waits for a Deployment in the member to run its current
// template on every replica, and explains a rollout that does not finish.
// register waits for the agent Deployment it wrote, migrate for each switch
// between karmada-agent and Tether.
package rollout

import (
	"context"
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

// Wait waits until the Deployment's current generation is rolled out: every
// replica runs the current template and is available, and no replica of an
// older template is left (so after a Recreate rollout the old pods are
// gone). On timeout the error says what its pods are waiting for.
func Wait(ctx context.Context, cs kubernetes.Interface, namespace, name string, timeout time.Duration) error {
	var last *appsv1.Deployment
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		d, err := cs.AppsV1().Deployments(namespace).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, nil
		}
		last = d
		want := int32(1)
		if d.Spec.Replicas != nil {
			want = *d.Spec.Replicas
		}
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas >= want && s.Replicas == s.UpdatedReplicas &&
			s.AvailableReplicas >= s.UpdatedReplicas, nil
	})
	if err == nil {
		return nil
	}
	if !wait.Interrupted(err) || last == nil {
		return fmt.Errorf("wait for Deployment %s/%s: %w", namespace, name, err)
	}
	return fmt.Errorf("Deployment %s/%s did not roll out within %s (%d/%d available)%s",
		namespace, name, timeout, last.Status.AvailableReplicas, last.Status.Replicas, podHints(ctx, cs, last))
}

// podHints summarizes why the Deployment's pods are not ready.
func podHints(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) string {
	sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
	if err != nil {
		return ""
	}
	pods, err := cs.CoreV1().Pods(d.Namespace).List(ctx, metav1.ListOptions{LabelSelector: sel.String()})
	if err != nil || len(pods.Items) == 0 {
		hint := ": no pod was created"
		for _, c := range d.Status.Conditions {
			if c.Type == appsv1.DeploymentReplicaFailure && c.Message != "" {
				hint += " (" + c.Message + ")"
			}
		}
		return hint + "; see 'kubectl describe deployment " + d.Name + " -n " + d.Namespace + "'"
	}
	var hints []string
	for _, p := range pods.Items {
		hints = append(hints, fmt.Sprintf("pod %s is %s%s", p.Name, p.Status.Phase, waiting(&p)))
	}
	return ": " + strings.Join(hints, "; ")
}

func waiting(p *corev1.Pod) string {
	for _, c := range p.Status.ContainerStatuses {
		if w := c.State.Waiting; w != nil {
			return fmt.Sprintf(" (%s: %s)", w.Reason, w.Message)
		}
	}
	for _, c := range p.Status.Conditions {
		if c.Status != corev1.ConditionTrue && c.Message != "" {
			return fmt.Sprintf(" (%s: %s)", c.Type, c.Message)
		}
	}
	return ""
}
