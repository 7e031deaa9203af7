package deletion

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/metadata"
	"k8s.io/utils/ptr"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

var managedLabels = map[string]string{workv1alpha1.ManagedLabel: workv1alpha1.ManagedLabelValue}

// member is a real member cluster's clients.
type member struct {
	kube kubernetes.Interface
	dyn  dynamic.Interface
	md   metadata.Interface
	disc discovery.DiscoveryInterface
}

func newMember(t *testing.T) *member {
	cfg := testenv.Require(t).Members[0].Config
	return &member{kube: kubernetes.NewForConfigOrDie(cfg), dyn: dynamic.NewForConfigOrDie(cfg),
		md: metadata.NewForConfigOrDie(cfg), disc: discovery.NewDiscoveryClientForConfigOrDie(cfg)}
}

func (m *member) blockers(t *testing.T, obj *unstructured.Unstructured) Blocked {
	t.Helper()
	b, err := Blockers(context.Background(), m.md, m.disc, obj)
	if err != nil {
		t.Fatalf("Blockers(%s %s): %v", obj.GetKind(), obj.GetName(), err)
	}
	return b
}

func namespaceObj(name string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Namespace"})
	u.SetName(name)
	return u
}

// TestNamespaceBlockers fills a member namespace with what a managed
// Deployment and Service bring (ReplicaSet, Pods, Endpoints,
// EndpointSlices), what Kubernetes puts in every namespace, an Event and a
// Lease: none of it blocks the namespace's delete. An unmanaged ConfigMap
// does; more than five are named five and "more".
func TestNamespaceBlockers(t *testing.T) {
	m := newMember(t)
	ctx := context.Background()
	const ns = "guarded"
	_, err := m.kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns, Labels: managedLabels}}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	t.Cleanup(func() { _ = m.kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	app := map[string]string{"app": "web"}
	_, err = m.kube.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: managedLabels},
		Spec: appsv1.DeploymentSpec{Replicas: ptr.To[int32](2), Selector: &metav1.LabelSelector{MatchLabels: app},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: app},
				Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "nginx"}}}}}}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	svc, err := m.kube.CoreV1().Services(ns).Create(ctx, &corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Labels: managedLabels},
		Spec: corev1.ServiceSpec{Selector: app, Ports: []corev1.ServicePort{{Port: 80}}}}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	// The test member runs no endpoint controllers and no root CA publisher:
	// write what they would, as they would (no managed label).
	//lint:ignore SA1019 the member's endpoint controller still writes v1 Endpoints, which deletion must skip
	_, err = m.kube.CoreV1().Endpoints(ns).Create(ctx, &corev1.Endpoints{ObjectMeta: metav1.ObjectMeta{Name: "web"}}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	_, err = m.kube.DiscoveryV1().EndpointSlices(ns).Create(ctx, &discoveryv1.EndpointSlice{ObjectMeta: metav1.ObjectMeta{Name: "web-x1",
		OwnerReferences: []metav1.OwnerReference{{APIVersion: "v1", Kind: "Service", Name: "web", UID: svc.UID, Controller: ptr.To(true)}}},
		AddressType: discoveryv1.AddressTypeIPv4}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	_, err = m.kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kube-root-ca.crt"},
		Data: map[string]string{"ca.crt": "test"}}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	_, err = m.kube.CoordinationV1().Leases(ns).Create(ctx, &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: "web-leader"}}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	_, err = m.kube.CoreV1().Events(ns).Create(ctx, &corev1.Event{ObjectMeta: metav1.ObjectMeta{Name: "web.1"},
		InvolvedObject: corev1.ObjectReference{Kind: "Deployment", Namespace: ns, Name: "web"}, Reason: "Test", Type: corev1.EventTypeNormal}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	testenv.Eventually(t, 2*time.Minute, "the default ServiceAccount, the ReplicaSet and two Pods", func() (bool, error) {
		pods, err := m.kube.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(pods.Items) < 2 {
			return false, nil
		}
		rs, err := m.kube.AppsV1().ReplicaSets(ns).List(ctx, metav1.ListOptions{})
		if err != nil || len(rs.Items) == 0 {
			return false, nil
		}
		_, err = m.kube.CoreV1().ServiceAccounts(ns).Get(ctx, "default", metav1.GetOptions{})
		return err == nil, nil
	})
	if b := m.blockers(t, namespaceObj(ns)); b.Any() {
		t.Fatalf("nothing unmanaged is in namespace %s, yet Blockers found %s", ns, b)
	}

	_, err = m.kube.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "stray"}}, metav1.CreateOptions{})
	testenv.NoError(t, err)
	if b := m.blockers(t, namespaceObj(ns)); !slices.Equal(b.Names, []string{"configmaps/stray"}) || b.More {
		t.Fatalf("Blockers = %+v, want the unmanaged ConfigMap", b)
	}
	for i := range 6 {
		_, err = m.kube.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("stray-%d", i)}}, metav1.CreateOptions{})
		testenv.NoError(t, err)
	}
	if b := m.blockers(t, namespaceObj(ns)); len(b.Names) != MaxBlockerNames || !b.More {
		t.Fatalf("Blockers = %+v, want %d names and more", b, MaxBlockerNames)
	}
}

// TestCustomResourceBlockers: deleting a CRD would remove its custom
// resources; a managed one does not block, an unmanaged one does.
func TestCustomResourceBlockers(t *testing.T) {
	m := newMember(t)
	ctx := context.Background()
	ext := apiextensionsclient.NewForConfigOrDie(testenv.Require(t).Members[0].Config)
	crd := &apiextensionsv1.CustomResourceDefinition{ObjectMeta: metav1.ObjectMeta{Name: "widgets.guard.tether.test"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{Group: "guard.tether.test", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object",
					XPreserveUnknownFields: ptr.To(true)}}}}}}
	_, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, crd, metav1.CreateOptions{})
	testenv.NoError(t, err)
	t.Cleanup(func() {
		_ = ext.ApiextensionsV1().CustomResourceDefinitions().Delete(context.Background(), crd.Name, metav1.DeleteOptions{})
	})
	gvr := schema.GroupVersionResource{Group: "guard.tether.test", Version: "v1", Resource: "widgets"}
	widget := func(name string, labels map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "guard.tether.test/v1", "kind": "Widget"}}
		u.SetNamespace("default")
		u.SetName(name)
		u.SetLabels(labels)
		return u
	}
	testenv.Eventually(t, 2*time.Minute, "the CRD to serve", func() (bool, error) {
		_, err := m.dyn.Resource(gvr).Namespace("default").Create(ctx, widget("managed", managedLabels), metav1.CreateOptions{})
		return err == nil, nil
	})
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(crd)
	testenv.NoError(t, err)
	obj := &unstructured.Unstructured{Object: raw}
	obj.SetGroupVersionKind(apiextensionsv1.SchemeGroupVersion.WithKind("CustomResourceDefinition"))
	if b := m.blockers(t, obj); b.Any() {
		t.Fatalf("only a managed Widget exists, yet Blockers found %s", b)
	}
	_, err = m.dyn.Resource(gvr).Namespace("default").Create(ctx, widget("handmade", nil), metav1.CreateOptions{})
	testenv.NoError(t, err)
	if b := m.blockers(t, obj); !slices.Equal(b.Names, []string{"default/handmade"}) {
		t.Fatalf("Blockers = %+v, want the unmanaged Widget", b)
	}
	cm := &unstructured.Unstructured{}
	cm.SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"})
	cm.SetName("x")
	if b := m.blockers(t, cm); b.Any() {
		t.Errorf("a ConfigMap delete cascades into nothing, yet Blockers found %s", b)
	}
}
