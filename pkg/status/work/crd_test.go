package work

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/yaml"

	"github.com/tether-io/tether/deploy/crds"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/drift"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// karmadaWorkCRD is Karmada's published Work CRD, which this repository
// does not carry: it sits in shared/karmada-crds next to a checkout. The
// test looks for it in the parent directories of the package.
const karmadaWorkCRD = "shared/karmada-crds/work.karmada.io_works.yaml"

func findUp(t *testing.T, rel string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, rel)); err == nil {
			return filepath.Join(dir, rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skipf("%s is not in any parent directory", rel)
		}
		dir = parent
	}
}

// driftedStatus is a Work status as the writer builds it for a manifest
// with a drift record: the reflected status and the record side by side.
func driftedStatus(t *testing.T) workv1alpha1.WorkStatus {
	t.Helper()
	at := metav1.NewTime(time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC))
	rec := &drift.Record{Mode: "correct", State: drift.Corrected, OmittedFields: 2, FirstObserved: at, LastObserved: at, Repairs: 3,
		Fields: []drift.Field{{Path: "/data/mode", ValueInMember: `"slow"`, ValueInHub: `"fast"`, Manager: "kubectl-edit"}, {Path: "/metadata/labels/app"}}}
	return workv1alpha1.WorkStatus{
		Conditions: []metav1.Condition{{Type: workv1alpha1.WorkApplied, Status: metav1.ConditionTrue, Reason: workv1alpha1.ReasonAppliedSuccessful,
			Message: workv1alpha1.MessageAppliedSuccessful, LastTransitionTime: at}},
		ManifestStatuses: []workv1alpha1.ManifestStatus{{
			Identifier: workv1alpha1.ResourceIdentifier{Version: "v1", Kind: "ConfigMap", Namespace: "default", Name: "settings"},
			Status:     withRecord(rawStatus(map[string]any{"replicas": 2}), rec), Health: workv1alpha1.ResourceHealthy,
		}},
	}
}

// TestWorkCRDsAcceptTheDriftRecord writes a Work status that carries a
// drift record through Karmada's Work CRD (served under another group, so
// that it stands next to Tether's) and Tether's own, on a real apiserver,
// and reads back the record unpruned.
func TestWorkCRDsAcceptTheDriftRecord(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	raw, err := os.ReadFile(findUp(t, karmadaWorkCRD))
	if err != nil {
		t.Fatal(err)
	}
	karmada := &apiextensionsv1.CustomResourceDefinition{}
	if err := yaml.UnmarshalStrict(raw, karmada); err != nil {
		t.Fatal(err)
	}
	const group = "karmada-copy.tether.io"
	karmada.Spec.Group, karmada.Name = group, "works."+group
	ext := apiextensionsclient.NewForConfigOrDie(env.Hub.Config)
	if _, err := ext.ApiextensionsV1().CustomResourceDefinitions().Create(ctx, karmada, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	must(t, crds.WaitEstablished(ctx, ext, []string{karmada.Name}, time.Minute))
	const ns = "drift-crd"
	if _, err := kubernetes.NewForConfigOrDie(env.Hub.Config).CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	want := driftedStatus(t)

	t.Run("Karmada's Work CRD", func(t *testing.T) {
		works := dynamic.NewForConfigOrDie(env.Hub.Config).Resource(schema.GroupVersionResource{Group: group, Version: "v1alpha1", Resource: "works"}).Namespace(ns)
		obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": group + "/v1alpha1", "kind": "Work",
			"metadata": map[string]any{"name": "drifted"},
			"spec":     map[string]any{"workload": map[string]any{"manifests": []any{map[string]any{"apiVersion": "v1", "kind": "ConfigMap"}}}}}}
		created, err := works.Create(ctx, obj, metav1.CreateOptions{})
		must(t, err)
		status, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&want)
		must(t, err)
		created.Object["status"] = status
		_, err = works.UpdateStatus(ctx, created, metav1.UpdateOptions{FieldValidation: metav1.FieldValidationStrict})
		must(t, err)
		got, err := works.Get(ctx, "drifted", metav1.GetOptions{})
		must(t, err)
		var stored workv1alpha1.WorkStatus
		must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(got.Object["status"].(map[string]any), &stored))
		checkRecord(t, stored, want)
	})
	t.Run("Tether's Work CRD", func(t *testing.T) {
		works := versioned.NewForConfigOrDie(env.Hub.Config).WorkV1alpha1().Works(ns)
		created, err := works.Create(ctx, &workv1alpha1.Work{ObjectMeta: metav1.ObjectMeta{Name: "drifted"},
			Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
				{RawExtension: runtime.RawExtension{Raw: []byte(`{"apiVersion":"v1","kind":"ConfigMap"}`)}}}}}}, metav1.CreateOptions{})
		must(t, err)
		body, err := patchBody(want) // the writer's merge patch
		must(t, err)
		_, err = works.Patch(ctx, created.Name, "application/merge-patch+json", body, metav1.PatchOptions{FieldValidation: metav1.FieldValidationStrict}, "status")
		must(t, err)
		got, err := works.Get(ctx, created.Name, metav1.GetOptions{})
		must(t, err)
		checkRecord(t, got.Status, want)
	})
}

// checkRecord compares the drift record and reflected status of stored
// with those sent.
func checkRecord(t *testing.T, stored, sent workv1alpha1.WorkStatus) {
	t.Helper()
	if len(stored.ManifestStatuses) != 1 || stored.ManifestStatuses[0].Status == nil {
		t.Fatalf("stored status %+v", stored)
	}
	got, want := drift.Decode(stored.ManifestStatuses[0].Status.Raw), drift.Decode(sent.ManifestStatuses[0].Status.Raw)
	if got == nil || !reflect.DeepEqual(got, want) {
		t.Errorf("drift record stored as %s, sent %s", stored.ManifestStatuses[0].Status.Raw, sent.ManifestStatuses[0].Status.Raw)
	}
	var reflected struct{ Replicas int }
	if json.Unmarshal(stored.ManifestStatuses[0].Status.Raw, &reflected) != nil || reflected.Replicas != 2 {
		t.Errorf("the reflected status next to the record was lost: %s", stored.ManifestStatuses[0].Status.Raw)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
