package karmadamember

import (
	"context"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// remove deletes the Cluster and its Works (their finalizers first: no
// control plane runs here to remove them), and on the member the workload
// and the agent Deployment, waiting until their pods are gone so that the
// next test starts on a clean member.
func (r *Registered) remove(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	clusters := r.Karmada.ClusterV1alpha1().Clusters()
	if c, err := clusters.Get(ctx, r.Name, metav1.GetOptions{}); err == nil {
		c.Finalizers = nil
		_, _ = clusters.Update(ctx, c, metav1.UpdateOptions{})
	}
	_ = clusters.Delete(ctx, r.Name, metav1.DeleteOptions{})
	works := r.Karmada.WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(r.Name))
	if list, err := works.List(ctx, metav1.ListOptions{}); err == nil {
		for _, w := range list.Items {
			w.Finalizers = nil
			_, _ = works.Update(ctx, &w, metav1.UpdateOptions{})
			_ = works.Delete(ctx, w.Name, metav1.DeleteOptions{})
		}
	}
	foreground := metav1.DeletePropagationForeground
	deployments := map[string]string{"default": "nginx", Namespace: "karmada-agent"}
	for ns, name := range deployments {
		_ = r.MemberClient.AppsV1().Deployments(ns).Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &foreground})
	}
	err := wait.PollUntilContextCancel(ctx, time.Second, true, func(ctx context.Context) (bool, error) {
		for ns, name := range deployments {
			if _, err := r.MemberClient.AppsV1().Deployments(ns).Get(ctx, name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		t.Errorf("remove the workload and the agent Deployment of %s: %v", r.Name, err)
	}
}
