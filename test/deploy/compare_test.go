package deploy

import (
	"fmt"
	"maps"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/tether-io/tether/pkg/register"
	"github.com/tether-io/tether/pkg/register/hub"
)

// typedScheme decodes the rendered objects into the types register builds.
var typedScheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := scheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := apiextensionsv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// registerAgent is what register would deploy for the chart's values.
func registerAgent(image string) register.Agent {
	return register.Agent{
		Cluster: "edge-1", Namespace: namespace, ClusterNamespace: "karmada-cluster", LeaderElectNamespace: namespace,
		APIEndpoint: "https://kubernetes.default.svc", Image: image, Replicas: 1, CertRotation: true,
	}
}

// TestAgentChartMatchesRegister: the member objects register creates
// (ServiceAccount, ClusterRole, ClusterRoleBinding, Deployment) are in the
// chart under the same names, with register's labels, RBAC and pod spec
// (command, probes, resources, security, volumes) field for field; the
// chart may only add labels and annotations.
func TestAgentChartMatchesRegister(t *testing.T) {
	existing := map[string]any{"clusterName": "edge-1", "mode": "existingSecret",
		"existingSecret": map[string]any{"context": "edge-1@karmada-apiserver"}}
	for name, values := range map[string]map[string]any{"bootstrap": bootstrapValues(), "existingSecret": existing} {
		t.Run(name, func(t *testing.T) {
			r, err := render(agentChart, values)
			if err != nil {
				t.Fatal(err)
			}
			spec := podSpec(t, r.objects, "Deployment", register.AgentName)
			image, _ := spec["containers"].([]any)[0].(map[string]any)["image"].(string)
			if image != "ghcr.io/tether-io/tether-agent:0.1.0" {
				t.Errorf("the chart's default image is %q, want the appVersion's", image)
			}
			// The Secret is register's own: the bootstrap Job writes it, or the user.
			for _, want := range registerAgent(image).Objects(nil)[1:] {
				compareWith(t, want, r.objects)
			}
		})
	}
}

// TestHubChartMatchesHubInit: the hub chart holds what 'hub init' applies:
// the CRDs of deploy/crds, the shared namespace, tether-hub-info and the
// bootstrap RBAC, under the same names, labels and rules.
func TestHubChartMatchesHubInit(t *testing.T) {
	r, err := render(hubChart, nil)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := hub.InitObjects(hub.InitConfig{})
	if err != nil {
		t.Fatal(err)
	}
	all := append(append([]*unstructured.Unstructured{}, r.crds...), r.objects...)
	crds := 0
	for _, want := range objs {
		if _, ok := want.(*apiextensionsv1.CustomResourceDefinition); ok {
			crds++
		}
		compareWith(t, want, all)
	}
	if len(r.crds) != crds {
		t.Errorf("the chart has %d CRDs, deploy/crds %d: copy deploy/crds/*.yaml into deploy/helm/tether-hub/crds/", len(r.crds), crds)
	}
}

// compareWith finds want's counterpart among objs by kind, namespace and
// name and compares them.
func compareWith(t *testing.T, want runtime.Object, objs []*unstructured.Unstructured) {
	t.Helper()
	m, err := meta.Accessor(want)
	if err != nil {
		t.Fatal(err)
	}
	kind := want.GetObjectKind().GroupVersionKind().Kind
	ref := fmt.Sprintf("%s %s/%s", kind, m.GetNamespace(), m.GetName())
	var got *unstructured.Unstructured
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == m.GetName() && o.GetNamespace() == m.GetNamespace() {
			got = o
		}
	}
	if got == nil {
		t.Errorf("%s is missing from the rendered objects (%s)", ref, refs(objs))
		return
	}
	if err := sameObject(want, got); err != nil {
		t.Errorf("%s: %v", ref, err)
	}
}

// sameObject decodes got into want's type, checks that want's labels and
// annotations are among got's (here and on a pod template), then requires
// everything else to be equal.
func sameObject(want runtime.Object, got *unstructured.Unstructured) error {
	typed, err := typedScheme.New(want.GetObjectKind().GroupVersionKind())
	if err != nil {
		return err
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(got.Object, typed); err != nil {
		return fmt.Errorf("decode the rendered object: %w", err)
	}
	want = want.DeepCopyObject()
	wm, _ := meta.Accessor(want)
	gm, _ := meta.Accessor(typed)
	if err := adopt("metadata", wm, gm); err != nil {
		return err
	}
	if wd, ok := want.(*appsv1.Deployment); ok {
		gd := typed.(*appsv1.Deployment)
		if err := adopt("the pod template", &wd.Spec.Template, &gd.Spec.Template); err != nil {
			return err
		}
	}
	if !equality.Semantic.DeepEqual(want, typed) {
		return fmt.Errorf("differs from register's (-register +chart):\n%s", cmp.Diff(want, typed))
	}
	return nil
}

type labelled interface {
	GetLabels() map[string]string
	SetLabels(map[string]string)
	GetAnnotations() map[string]string
	SetAnnotations(map[string]string)
}

// adopt checks that want's labels and annotations are in got, then gives
// want got's, so that what the chart adds does not count as a difference.
func adopt(where string, want, got labelled) error {
	for k, v := range want.GetLabels() {
		if got.GetLabels()[k] != v {
			return fmt.Errorf("%s lacks register's label %s=%s (has %v)", where, k, v, got.GetLabels())
		}
	}
	for k, v := range want.GetAnnotations() {
		if got.GetAnnotations()[k] != v {
			return fmt.Errorf("%s lacks register's annotation %s=%s", where, k, v)
		}
	}
	want.SetLabels(maps.Clone(got.GetLabels()))
	want.SetAnnotations(maps.Clone(got.GetAnnotations()))
	return nil
}
