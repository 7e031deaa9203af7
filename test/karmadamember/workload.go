package karmadamember

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/test/karmadafixture"
	"github.com/tether-io/tether/test/testenv"
)

// installMember creates karmadactl register's member objects (the Secret
// holding the agent's hub kubeconfig, the agent Deployment's command
// pointing at the member's URL) and waits for the agent Deployment.
func (r *Registered) installMember(ctx context.Context, t *testing.T) {
	t.Helper()
	items := karmadafixture.Items(t, karmadafixture.MemberObjects, r.Name)
	for kind := range items {
		if !slices.Contains([]string{"Namespace", "ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Secret", "Deployment"}, kind) {
			t.Fatalf("member fixture: unexpected %s", kind)
		}
	}
	opts := metav1.CreateOptions{FieldManager: "karmadactl"}
	ns, sa := &corev1.Namespace{}, &corev1.ServiceAccount{}
	karmadafixture.Into(t, items["Namespace"][0], ns)
	created(t, "Namespace")(r.MemberClient.CoreV1().Namespaces().Create(ctx, ns, opts))
	karmadafixture.Into(t, items["ServiceAccount"][0], sa)
	created(t, "ServiceAccount")(r.MemberClient.CoreV1().ServiceAccounts(Namespace).Create(ctx, sa, opts))
	createRBAC(ctx, t, r.MemberClient, items, Options{})
	secret := &corev1.Secret{}
	unstructured.RemoveNestedField(items["Secret"][0].Object, "data") // redacted in the fixture
	karmadafixture.Into(t, items["Secret"][0], secret)
	secret.Data = map[string][]byte{"karmada-kubeconfig": r.HubKubeconfig}
	_, err := r.MemberClient.CoreV1().Secrets(Namespace).Create(ctx, secret, opts)
	if apierrors.IsAlreadyExists(err) { // an earlier test's cluster: this one's identity replaces it
		_, err = r.MemberClient.CoreV1().Secrets(Namespace).Update(ctx, secret, metav1.UpdateOptions{FieldManager: "karmadactl"})
	}
	if err != nil {
		t.Fatalf("write the Secret karmada-kubeconfig: %v", err)
	}
	d := &appsv1.Deployment{}
	karmadafixture.Into(t, items["Deployment"][0], d)
	command := d.Spec.Template.Spec.Containers[0].Command
	if len(command) < 2 || command[0] != "/bin/karmada-agent" {
		t.Fatalf("the fixture Deployment's command is %q", command)
	}
	for i, a := range command {
		if strings.HasPrefix(a, "--cluster-api-endpoint=") {
			command[i] = "--cluster-api-endpoint=" + r.Member.URL
		}
	}
	if r.Deployment, err = r.MemberClient.AppsV1().Deployments(Namespace).Create(ctx, d, opts); err != nil {
		t.Fatalf("create the karmada-agent Deployment: %v", err)
	}
	WaitAvailable(t, r.MemberClient, Namespace, d.Name)
}

// installWorkload creates the Work's Deployment in the member the way
// karmada-agent does: a create under its field manager (an Update entry),
// and checks that the member recorded the same entry as the fixture.
func (r *Registered) installWorkload(ctx context.Context, t *testing.T) {
	t.Helper()
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(r.Work.Spec.Workload.Manifests[0].Raw); err != nil {
		t.Fatal(err)
	}
	d := &appsv1.Deployment{}
	karmadafixture.Into(t, obj, d)
	live, err := r.MemberClient.AppsV1().Deployments(d.Namespace).Create(ctx, d, metav1.CreateOptions{FieldManager: "karmada-agent"})
	if err != nil {
		t.Fatalf("create the workload as karmada-agent: %v", err)
	}
	recorded := karmadafixture.Deployment(t, r.Name)
	if got, want := agentEntry(live.ManagedFields), agentEntry(recorded.ManagedFields); got == nil || want == nil || !equality.Semantic.DeepEqual(got, want) {
		t.Fatalf("the workload's karmada-agent managedFields entry differs from the fixture's:\n got %s\nwant %s", got, want)
	}
	WaitAvailable(t, r.MemberClient, d.Namespace, d.Name)
}

// agentEntry is the decoded FieldsV1 of karmada-agent's Update entry.
func agentEntry(entries []metav1.ManagedFieldsEntry) map[string]any {
	for _, e := range entries {
		if e.Manager == "karmada-agent" && e.Operation == metav1.ManagedFieldsOperationUpdate && e.FieldsV1 != nil {
			var out map[string]any
			if json.Unmarshal(e.FieldsV1.GetRawBytes(), &out) == nil {
				return out
			}
		}
	}
	return nil
}

// WaitAvailable waits until the Deployment's replicas all run its current
// template (kwok runs the pods).
func WaitAvailable(t *testing.T, cs kubernetes.Interface, ns, name string) *appsv1.Deployment {
	t.Helper()
	var d *appsv1.Deployment
	testenv.Eventually(t, 2*time.Minute, "Deployment "+ns+"/"+name+" available", func() (bool, error) {
		var err error
		if d, err = cs.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{}); err != nil {
			return false, err
		}
		s := d.Status
		return s.ObservedGeneration >= d.Generation && s.UpdatedReplicas == *d.Spec.Replicas && s.Replicas == *d.Spec.Replicas &&
			s.AvailableReplicas == *d.Spec.Replicas, nil
	})
	return d
}
