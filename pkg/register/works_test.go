package register_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/register"
	"github.com/tether-io/tether/test/testenv"
)

// TestUnregisterReleasesEveryWorkItCan: with the agent gone, unregister
// releases the Works' member objects itself, as the agent does: each Work
// and each object on its own. A Work whose Namespace delete is blocked
// (it would take an object the agent does not own with it) is reported,
// and does not hold back the Works after it. Unregister used to stop at
// the first Work it could not release, leaving every later Work's member
// objects and finalizer in place.
func TestUnregisterReleasesEveryWorkItCan(t *testing.T) {
	env := testenv.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const cluster = "partial"
	es := workv1alpha1.ExecutionNamespace(cluster)
	hubCS := kubernetes.NewForConfigOrDie(env.Hub.Config)
	karmada := versioned.NewForConfigOrDie(env.Hub.Config)
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	created := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("setup: %v", err)
		}
	}
	created(hubCS.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: es}}, metav1.CreateOptions{}))

	// Work a-blocked (listed first) holds a Namespace with a stranger in it.
	blockedNS := memberObject(t, "v1", "Namespace", "", "unreg-blocked")
	createWorkOf(t, ctx, karmada, es, "a-blocked", blockedNS)
	stamp(blockedNS, es, "a-blocked")
	created(member.CoreV1().Namespaces().Create(ctx, toNamespace(t, blockedNS), metav1.CreateOptions{}))
	created(member.CoreV1().ConfigMaps("unreg-blocked").Create(ctx,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "stranger"}}, metav1.CreateOptions{}))

	// Work b-plain holds a ConfigMap.
	created(member.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "unreg-plain"}}, metav1.CreateOptions{}))
	cm := memberObject(t, "v1", "ConfigMap", "unreg-plain", "plain")
	createWorkOf(t, ctx, karmada, es, "b-plain", cm)
	stamp(cm, es, "b-plain")
	created(member.CoreV1().ConfigMaps("unreg-plain").Create(ctx, toConfigMap(t, cm), metav1.CreateOptions{}))

	var out bytes.Buffer
	uopts := register.NewUnregisterOptions()
	uopts.Cluster, uopts.Wait = cluster, 5*time.Second
	err := register.Unregister(ctx, register.UnregisterConfig{Options: uopts, Member: env.Members[0].Config, Hub: env.Hub.Config, Out: &out})
	t.Logf("unregister:\n%s", out.String())
	if err == nil || !strings.Contains(err.Error(), "Namespace/unreg-blocked") {
		t.Fatalf("unregister: want an error naming the blocked Namespace, got %v", err)
	}
	if _, err := member.CoreV1().ConfigMaps("unreg-plain").Get(ctx, "plain", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the ConfigMap of Work b-plain, after the blocked Work, was not released: %v", err)
	}
	testenv.Eventually(t, 30*time.Second, "Work b-plain gone (its finalizer removed)", func() (bool, error) {
		_, err := karmada.WorkV1alpha1().Works(es).Get(ctx, "b-plain", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	if _, err := member.CoreV1().Namespaces().Get(ctx, "unreg-blocked", metav1.GetOptions{}); err != nil {
		t.Errorf("the blocked Namespace was deleted: %v", err)
	}
}

func memberObject(t *testing.T, apiVersion, kind, namespace, name string) *unstructured.Unstructured {
	t.Helper()
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
	obj.SetNamespace(namespace)
	obj.SetName(name)
	return obj
}

// stamp marks obj as applied for Work es/name, as the agent does.
func stamp(obj *unstructured.Unstructured, es, name string) {
	manifest.Stamp(obj, manifest.WorkRef{Namespace: es, Name: name})
}

func createWorkOf(t *testing.T, ctx context.Context, karmada versioned.Interface, es, name string, obj *unstructured.Unstructured) {
	t.Helper()
	raw, err := json.Marshal(obj.Object)
	if err != nil {
		t.Fatal(err)
	}
	w := &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: es, Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{{RawExtension: runtime.RawExtension{Raw: raw}}}}}}
	if _, err := karmada.WorkV1alpha1().Works(es).Create(ctx, w, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func toNamespace(t *testing.T, obj *unstructured.Unstructured) *corev1.Namespace {
	t.Helper()
	ns := &corev1.Namespace{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, ns); err != nil {
		t.Fatal(err)
	}
	return ns
}

func toConfigMap(t *testing.T, obj *unstructured.Unstructured) *corev1.ConfigMap {
	t.Helper()
	cm := &corev1.ConfigMap{}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(obj.Object, cm); err != nil {
		t.Fatal(err)
	}
	return cm
}
