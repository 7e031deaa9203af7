package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// WantImages are the images the example ends with on each member.
var WantImages = map[string]string{"member1": "nginx:1.20", "member2": "nginx"}

// WaitReady waits until each member runs the example with its image and each
// Work reports Applied and a Healthy Deployment with its replica ready.
func WaitReady(ctx context.Context, env *testenv.Env, timeout time.Duration) error {
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	var last string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		for _, m := range env.Members {
			d, err := kubernetes.NewForConfigOrDie(m.Config).AppsV1().Deployments("default").Get(ctx, "nginx", metav1.GetOptions{})
			if err != nil {
				last = fmt.Sprintf("%s: Deployment default/nginx: %v", m.Name, err)
				return false, nil
			}
			if img := d.Spec.Template.Spec.Containers[0].Image; img != WantImages[m.Name] {
				last = fmt.Sprintf("%s: image %s, want %s", m.Name, img, WantImages[m.Name])
				return false, nil
			}
			w, err := hub.WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(m.Name)).Get(ctx, "nginx-deployment", metav1.GetOptions{})
			if err != nil {
				last = err.Error()
				return false, nil
			}
			if c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied); c == nil || c.Status != metav1.ConditionTrue {
				last = fmt.Sprintf("%s: Work not Applied yet", m.Name)
				return false, nil
			}
			if len(w.Status.ManifestStatuses) != 1 || w.Status.ManifestStatuses[0].Health != workv1alpha1.ResourceHealthy || w.Status.ManifestStatuses[0].Status == nil {
				last = fmt.Sprintf("%s: Deployment not reported Healthy yet", m.Name)
				return false, nil
			}
			var st struct {
				ReadyReplicas int `json:"readyReplicas"`
			}
			_ = json.Unmarshal(w.Status.ManifestStatuses[0].Status.Raw, &st)
			if st.ReadyReplicas != 1 {
				last = fmt.Sprintf("%s: %d ready replicas reported", m.Name, st.ReadyReplicas)
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("the example did not become ready within %s (%s): %w", timeout, last, err)
	}
	return nil
}

// Summary is what a user wants to see: the clusters, each member's
// Deployments with their images, and the aggregate, all read through the
// tether-agent binary except the member listing.
func Summary(ctx context.Context, env *testenv.Env, bin string) (string, error) {
	var b strings.Builder
	clusters, err := run(ctx, bin, "get", "clusters", "--kubeconfig", env.Hub.Kubeconfig)
	if err != nil {
		return "", err
	}
	b.WriteString("Clusters on the hub (tether-agent get clusters):\n" + indent(clusters) + "\n")
	b.WriteString("Deployments in each member:\n")
	for _, m := range env.Members {
		list, err := kubernetes.NewForConfigOrDie(m.Config).AppsV1().Deployments("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			return "", err
		}
		for _, d := range list.Items {
			images := []string{}
			for _, c := range d.Spec.Template.Spec.Containers {
				images = append(images, c.Image)
			}
			fmt.Fprintf(&b, "  %-8s %s/%s  %d/%d ready  image %s\n", m.Name, d.Namespace, d.Name,
				d.Status.ReadyReplicas, d.Status.Replicas, strings.Join(images, ","))
		}
	}
	works, err := run(ctx, bin, "get", "works", "--kubeconfig", env.Hub.Kubeconfig)
	if err != nil {
		return "", err
	}
	b.WriteString("\nAggregated on the hub (tether-agent get works):\n" + indent(works))
	return b.String(), nil
}

func indent(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = "  " + lines[i]
	}
	return strings.Join(lines, "\n") + "\n"
}
