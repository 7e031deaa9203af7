package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	"github.com/tether-io/tether/deploy/crds"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/test/testenv"
)

// karmadaBindingCRD is Karmada's ResourceBinding CRD, reduced to what
// makes the apiserver serve it: a marker only a Karmada control plane has.
func karmadaBindingCRD() *apiextensionsv1.CustomResourceDefinition {
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "resourcebindings.work.karmada.io"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "work.karmada.io", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "resourcebindings", Singular: "resourcebinding", Kind: "ResourceBinding", ListKind: "ResourceBindingList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1alpha2", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: ptr.To(true)}}}},
		},
	}
}

// TestHubRefusesKarmadaControlPlane: on the test hub (Tether's CRDs, whose
// cluster.karmada.io APIService is local) nothing is detected; with
// Karmada's ResourceBinding CRD installed, 'hub init', 'hub approver' and
// 'hub approve' refuse, say why and what to do, and write nothing.
func TestHubRefusesKarmadaControlPlane(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	apiService, err := dynamic.NewForConfigOrDie(env.Hub.Config).Resource(schema.GroupVersionResource{
		Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}).Get(ctx, "v1alpha1.cluster.karmada.io", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the test hub should have the local APIService of Tether's Cluster CRD: %v", err)
	}
	if spec, _ := apiService.Object["spec"].(map[string]any); spec["service"] != nil {
		t.Fatalf("the APIService of Tether's Cluster CRD has a service: %v", spec)
	}
	if err := hub.RefuseKarmada(ctx, env.Hub.Config); err != nil {
		t.Fatalf("a hub with Tether's CRDs is taken for a Karmada control plane: %v", err)
	}

	ext := apiextensionsclient.NewForConfigOrDie(env.Hub.Config)
	crd := karmadaBindingCRD()
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = ext.ApiextensionsV1().CustomResourceDefinitions().Delete(context.Background(), crd.Name, metav1.DeleteOptions{})
		testenv.Eventually(t, time.Minute, "the ResourceBinding CRD is gone", func() (bool, error) {
			return hub.RefuseKarmada(context.Background(), env.Hub.Config) == nil, nil
		})
	})
	if err := crds.WaitEstablished(ctx, ext, []string{crd.Name}, time.Minute); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, time.Minute, "work.karmada.io/v1alpha2 is discoverable", func() (bool, error) {
		return hub.IsKarmadaControlPlane(hub.RefuseKarmada(ctx, env.Hub.Config)), nil
	})

	kube := kubernetes.NewForConfigOrDie(env.Hub.Config)
	for _, args := range [][]string{
		{"hub", "init", "--kubeconfig", env.Hub.Kubeconfig},
		{"hub", "approver", "--kubeconfig", env.Hub.Kubeconfig},
		{"hub", "approve", "some-csr", "--kubeconfig", env.Hub.Kubeconfig},
	} {
		cctx, ccancel := context.WithTimeout(ctx, 30*time.Second)
		root := newRootCommand()
		root.SetArgs(args)
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		err := root.ExecuteContext(cctx)
		ccancel()
		if !hub.IsKarmadaControlPlane(err) {
			t.Errorf("%s: want the Karmada refusal, got %v", strings.Join(args[:2], " "), err)
			continue
		}
		for _, want := range []string{"Karmada control plane", "resourcebindings.work.karmada.io/v1alpha2", "agentcsrapproving", "tether-agent register"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: the refusal does not say %q: %v", strings.Join(args[:2], " "), want, err)
			}
		}
	}
	if _, err := kube.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, hub.HubInfoConfigMap, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("hub init wrote kube-public/%s on a Karmada control plane: %v", hub.HubInfoConfigMap, err)
	}
}
