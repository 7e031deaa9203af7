package mcs

import (
	"context"
	"slices"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/utils/ptr"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/mcs"
	"github.com/tether-io/tether/test/testenv"
)

// bindingsCRD serves work.karmada.io/v1alpha2 resourcebindings, the API
// that tells a Karmada control plane from a plain hub.
func bindingsCRD() *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "resourcebindings.work.karmada.io"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{Group: "work.karmada.io", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "resourcebindings", Singular: "resourcebinding", Kind: "ResourceBinding", ListKind: "ResourceBindingList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1alpha2", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object",
					XPreserveUnknownFields: ptr.To(true)}}}}},
	}
}

// controlPlaneFinalizer: once the hub looks like a Karmada control plane,
// a restarted agent adds karmada.io/endpointslice-controller to the Works
// it reports and, on unexport, deletes them and leaves the finalizer to the
// control plane (played here by the test).
func controlPlaneFinalizer(t *testing.T, a *testenv.AgentProcess) {
	env := testenv.Require(t)
	crds := apiextensionsclient.NewForConfigOrDie(env.Hub.Config).ApiextensionsV1().CustomResourceDefinitions()
	if _, err := crds.Create(context.Background(), bindingsCRD(), metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = crds.Delete(context.Background(), "resourcebindings.work.karmada.io", metav1.DeleteOptions{})
	})
	disc := discovery.NewDiscoveryClientForConfigOrDie(env.Hub.Config)
	testenv.Eventually(t, 30*time.Second, "work.karmada.io/v1alpha2 served", func() (bool, error) {
		_, err := disc.ServerResourcesForGroupVersion("work.karmada.io/v1alpha2")
		return err == nil, err
	})
	a.Stop()
	a.Restart(t)
	a.WaitReady(t, time.Minute)

	export(t, 0, ns, "web")
	w := waitReported(t, a.Cluster, ns, "web-a", nil)
	if !slices.Contains(w.Finalizers, mcs.ServiceExportFinalizer) {
		t.Fatalf("finalizers %v on a Karmada control plane, want %s", w.Finalizers, mcs.ServiceExportFinalizer)
	}
	unexport(t, 0, ns, "web")
	w = waitReported(t, a.Cluster, ns, "web-a", func(w *workv1alpha1.Work) bool { return w.DeletionTimestamp != nil })
	if !slices.Contains(w.Finalizers, mcs.ServiceExportFinalizer) {
		t.Fatalf("the agent removed the control plane's finalizer: %v", w.Finalizers)
	}
	// The control plane's endpointslice controller: derived slices cleaned up, finalizer removed.
	testenv.Eventually(t, 30*time.Second, "the finalizer removed", func() (bool, error) {
		cur, err := reported(t, a.Cluster, ns, "web-a")
		if err != nil || cur == nil {
			return cur == nil, err
		}
		cur.Finalizers = slices.DeleteFunc(cur.Finalizers, func(f string) bool { return f == mcs.ServiceExportFinalizer })
		_, err = hub(t).WorkV1alpha1().Works(cur.Namespace).Update(context.Background(), cur, metav1.UpdateOptions{})
		return err == nil, err
	})
	waitGone(t, a.Cluster, ns, "web-a")
}
