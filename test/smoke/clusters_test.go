// Package smoke proves the test environment: Karmada-shaped objects
// round-trip through the hub, a member runs Deployments on kwok nodes and
// applies server-side, the hub serves JWS-signed cluster-info to anonymous
// clients, RBAC is enforced, and the CRD schemas are published to OpenAPI.
package smoke

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1}) }

func TestMemberDeploymentBecomesAvailable(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cs := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	labels := map[string]string{"app": "smoke"}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "smoke", Namespace: "default"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "c", Image: "nginx"}}},
			},
		},
	}
	if _, err := cs.AppsV1().Deployments("default").Create(ctx, d, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	err := wait.PollUntilContextCancel(ctx, 200*time.Millisecond, true, func(ctx context.Context) (bool, error) {
		live, err := cs.AppsV1().Deployments("default").Get(ctx, "smoke", metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		for _, c := range live.Status.Conditions {
			if c.Type == appsv1.DeploymentAvailable && c.Status == corev1.ConditionTrue && live.Status.AvailableReplicas == 3 {
				return true, nil
			}
		}
		return false, nil
	})
	if err != nil {
		t.Fatalf("Deployment did not become Available with 3 replicas: %v", err)
	}
	pods, err := cs.CoreV1().Pods("default").List(ctx, metav1.ListOptions{LabelSelector: "app=smoke"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pods.Items {
		if p.Spec.NodeName == "" || p.Status.Phase != corev1.PodRunning || p.Status.PodIP == "" {
			t.Errorf("pod %s: node %q phase %s ip %q, want scheduled, Running, with an IP", p.Name, p.Spec.NodeName, p.Status.Phase, p.Status.PodIP)
		}
	}
}

func TestNodesReportAllocatable(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	cs := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes.Items) != 3 {
		t.Fatalf("want 3 kwok nodes, got %d", len(nodes.Items))
	}
	for _, n := range nodes.Items {
		for name, want := range map[corev1.ResourceName]string{"cpu": "16", "memory": "64Gi", "pods": "110"} {
			got := n.Status.Allocatable[name]
			if got.Cmp(resource.MustParse(want)) != 0 {
				t.Errorf("node %s allocatable %s = %s, want %s", n.Name, name, got.String(), want)
			}
		}
		if !strings.HasPrefix(n.Status.NodeInfo.KubeletVersion, "v1.") {
			t.Errorf("node %s kubeletVersion %q", n.Name, n.Status.NodeInfo.KubeletVersion)
		}
	}
}

// TestServerSideApplyOnMember applies a ConfigMap under one field manager,
// checks the managedFields entry, and checks that a second manager changing
// an owned field conflicts unless it forces.
func TestServerSideApplyOnMember(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	cms := kubernetes.NewForConfigOrDie(env.Members[0].Config).CoreV1().ConfigMaps("default")
	apply := func(manager, value string, force bool) error {
		body, _ := json.Marshal(map[string]any{
			"apiVersion": "v1", "kind": "ConfigMap",
			"metadata": map[string]any{"name": "ssa-smoke", "namespace": "default"},
			"data":     map[string]any{"key": value},
		})
		_, err := cms.Patch(ctx, "ssa-smoke", types.ApplyPatchType, body, metav1.PatchOptions{FieldManager: manager, Force: ptr.To(force)})
		return err
	}
	if err := apply("tether", "one", false); err != nil {
		t.Fatal(err)
	}
	if err := apply("tether", "two", false); err != nil {
		t.Fatalf("re-apply by the owner: %v", err)
	}
	if err := apply("intruder", "three", false); !apierrors.IsConflict(err) {
		t.Fatalf("apply of an owned field by another manager: want a conflict, got %v", err)
	}
	if err := apply("intruder", "three", true); err != nil {
		t.Fatalf("forced apply: %v", err)
	}
	live, err := cms.Get(ctx, "ssa-smoke", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if live.Data["key"] != "three" {
		t.Errorf("data.key = %q, want three", live.Data["key"])
	}
	managers := map[string]metav1.ManagedFieldsOperationType{}
	for _, mf := range live.ManagedFields {
		managers[mf.Manager] = mf.Operation
	}
	if managers["intruder"] != metav1.ManagedFieldsOperationApply {
		t.Errorf("managedFields %v: want intruder with operation Apply", managers)
	}
}

// TestCRDSchemasArePublished asks the hub's OpenAPI v3 for the paths that
// 'kubectl explain' resolves; a non-structural schema would not be published.
func TestCRDSchemasArePublished(t *testing.T) {
	env := testenv.Require(t)
	kubectl, err := exec.LookPath("kubectl")
	if err != nil {
		t.Skip("kubectl is not installed")
	}
	for path, want := range map[string]string{
		"work.spec.workload.manifests":          "Manifests represents a list of Kubernetes resources",
		"cluster.status.resourceSummary":        "ResourceSummary represents the summary of resources",
		"overridepolicy.spec.overrideRules":     "OverrideRules defines a collection of override rules",
		"clusteroverridepolicy.spec.overriders": "Overriders represents the override rules",
	} {
		// The OpenAPI index is updated asynchronously after a CRD is Established.
		var out []byte
		err := wait.PollUntilContextTimeout(context.Background(), 500*time.Millisecond, time.Minute, true, func(context.Context) (bool, error) {
			var err error
			out, err = exec.Command(kubectl, "--kubeconfig", env.Hub.Kubeconfig, "explain", path).CombinedOutput()
			return err == nil, nil
		})
		if err != nil {
			t.Errorf("kubectl explain %s: %v\n%s", path, err, out)
			continue
		}
		if !strings.Contains(string(out), want) {
			t.Errorf("kubectl explain %s does not describe the field:\n%s", path, out)
		}
	}
}

// TestCRDSchemasInOpenAPIV3 walks the hub's OpenAPI v3 documents, which
// 'kubectl explain' reads, down to the same fields without needing kubectl.
func TestCRDSchemasInOpenAPIV3(t *testing.T) {
	env := testenv.Require(t)
	rc := kubernetes.NewForConfigOrDie(env.Hub.Config).Discovery().RESTClient()
	for doc, path := range map[string][]string{
		"work.karmada.io/v1alpha1":    {"Work", "spec", "workload", "manifests"},
		"cluster.karmada.io/v1alpha1": {"Cluster", "status", "resourceSummary", "allocatable"},
	} {
		raw, err := rc.Get().AbsPath("/openapi/v3/apis/" + doc).DoRaw(context.Background())
		if err != nil {
			t.Fatalf("GET /openapi/v3/apis/%s: %v", doc, err)
		}
		var spec struct {
			Components struct {
				Schemas map[string]map[string]any `json:"schemas"`
			} `json:"components"`
		}
		if err := json.Unmarshal(raw, &spec); err != nil {
			t.Fatal(err)
		}
		var node map[string]any
		for name, s := range spec.Components.Schemas {
			if strings.HasSuffix(name, "."+path[0]) {
				node = s
			}
		}
		if node == nil {
			t.Fatalf("%s: no schema for kind %s", doc, path[0])
		}
		for _, field := range path[1:] {
			props, _ := node["properties"].(map[string]any)
			next, ok := props[field].(map[string]any)
			if !ok {
				t.Fatalf("%s: %v: no property %q", doc, path, field)
			}
			if all, ok := next["allOf"].([]any); ok && len(all) == 1 { // a $ref wrapped by allOf
				next = all[0].(map[string]any)
			}
			if ref, ok := next["$ref"].(string); ok {
				next = spec.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
			}
			node = next
		}
		if node["description"] == nil && node["type"] == nil {
			t.Errorf("%s: %v has neither type nor description: %v", doc, path, node)
		}
	}
}
