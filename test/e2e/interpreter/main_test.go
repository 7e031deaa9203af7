// Package interpreter runs the tether-agent binary against the real hub and
// member of test/testenv with ResourceInterpreterCustomizations on the hub:
// a custom kind in the member whose status and health the customization's
// Lua scripts interpret, an update of a customization that changes the next
// verdict without a restart, failing scripts reported per manifest, and a
// retention rule that keeps a member-set field.
//
// TETHER_E2E_AGENT_BINARY=path (testenv.AgentBinaryEnv) runs that tether-agent instead of one built
// from this tree: the way to show that the tests fail on an older agent.
package interpreter

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/deploy/crds"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 1}) }

const group = "example.io"

func hub(t *testing.T) karmadaclient.Interface {
	return karmadaclient.NewForConfigOrDie(testenv.Require(t).Hub.Config)
}

func memberDynamic(t *testing.T) dynamic.Interface {
	return dynamic.NewForConfigOrDie(testenv.Require(t).Members[0].Config)
}

// installKind installs a namespaced custom kind of group example.io in the
// member, with a status subresource and free-form spec and status.
func installKind(t *testing.T, kind, plural string) {
	t.Helper()
	free := true
	schema := apiextensionsv1.JSONSchemaProps{Type: "object", Properties: map[string]apiextensionsv1.JSONSchemaProps{
		"spec":   {Type: "object", XPreserveUnknownFields: &free},
		"status": {Type: "object", XPreserveUnknownFields: &free},
	}}
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{Group: group, Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, Plural: plural, ListKind: kind + "List"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema:       &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &schema},
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}}}}},
	}
	cs := apiextensionsclient.NewForConfigOrDie(testenv.Require(t).Members[0].Config)
	ctx := context.Background()
	if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	testenv.NoError(t, crds.WaitEstablished(ctx, cs, []string{crd.Name}, time.Minute))
}

// memberNamespace creates a namespace in the member.
func memberNamespace(t *testing.T, name string) {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(testenv.Require(t).Members[0].Config)
	_, err := cs.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// custom is a manifest of kind in namespace with the given spec.
func custom(kind, namespace, name string, spec map[string]any) map[string]any {
	return map[string]any{"apiVersion": group + "/v1", "kind": kind,
		"metadata": map[string]any{"namespace": namespace, "name": name}, "spec": spec}
}

func configMap(namespace, name string) map[string]any {
	return map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"namespace": namespace, "name": name}, "data": map[string]any{"k": "v"}}
}

// work is a Work for cluster holding the manifests, in that order.
func work(t *testing.T, cluster, name string, manifests ...map[string]any) *workv1alpha1.Work {
	t.Helper()
	w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: workv1alpha1.ExecutionNamespace(cluster),
		Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}}}
	for _, m := range manifests {
		raw, err := json.Marshal(m)
		testenv.NoError(t, err)
		w.Spec.Workload.Manifests = append(w.Spec.Workload.Manifests, workv1alpha1.Manifest{RawExtension: runtime.RawExtension{Raw: raw}})
	}
	return w
}

// setStatus writes the status of a custom object in the member, as its
// controller would.
func setStatus(t *testing.T, plural, namespace, name string, status map[string]any) {
	t.Helper()
	res := memberDynamic(t).Resource(gvr(plural)).Namespace(namespace)
	testenv.Eventually(t, 30*time.Second, "the member object's status is written", func() (bool, error) {
		obj, err := res.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		obj.Object["status"] = status
		_, err = res.UpdateStatus(context.Background(), obj, metav1.UpdateOptions{})
		return err == nil, err
	})
}

// manifestStatus returns the Work's entry for ordinal, with its status decoded.
func manifestStatus(t *testing.T, cluster, name string, ordinal int) (workv1alpha1.ManifestStatus, map[string]any, error) {
	w, err := hub(t).WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(cluster)).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return workv1alpha1.ManifestStatus{}, nil, err
	}
	for _, ms := range w.Status.ManifestStatuses {
		if ms.Identifier.Ordinal != ordinal {
			continue
		}
		var status map[string]any
		if ms.Status != nil {
			if err := json.Unmarshal(ms.Status.Raw, &status); err != nil {
				return ms, nil, err
			}
		}
		return ms, status, nil
	}
	return workv1alpha1.ManifestStatus{}, nil, nil
}
