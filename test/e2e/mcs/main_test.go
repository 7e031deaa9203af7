// Package mcs runs the agent's EndpointSlice reporter (serviceExport and
// endpointsliceCollect) as the tether-agent process against a real hub and
// two members: exported Services become EndpointSlice Works on the hub with
// Karmada's names and labels, follow their endpoints, and go away with the
// export, also when that happened while the agent was down. Hub writes are
// counted from the hub's audit log.
package mcs

import (
	"context"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	mcscrd "sigs.k8s.io/mcs-api/config/crd"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"
	"sigs.k8s.io/yaml"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/mcs"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 2, Nodes: 1, Audit: true}) }

// controllers enables both sources (endpointsliceCollect is off under '*').
const controllers = "--controllers=*,endpointsliceCollect"

func hub(t *testing.T) karmadaclient.Interface {
	return karmadaclient.NewForConfigOrDie(testenv.Require(t).Hub.Config)
}

func member(t *testing.T, i int) kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(testenv.Require(t).Members[i].Config)
}

func exports(t *testing.T, i int) mcsclient.Interface {
	return mcsclient.NewForConfigOrDie(testenv.Require(t).Members[i].Config)
}

// installCRDs installs the mcs-api CRDs (as the module ships them) on a
// member and waits until they are established.
func installCRDs(t *testing.T, cfg *rest.Config) {
	t.Helper()
	cs := apiextensionsclient.NewForConfigOrDie(cfg)
	for _, raw := range [][]byte{mcscrd.ServiceExportCRD, mcscrd.ServiceImportCRD} {
		crd := &apiextensionsv1.CustomResourceDefinition{}
		if err := yaml.Unmarshal(raw, crd); err != nil {
			t.Fatal(err)
		}
		if _, err := cs.ApiextensionsV1().CustomResourceDefinitions().Create(context.Background(), crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
		testenv.Eventually(t, 30*time.Second, "CRD "+crd.Name+" established", func() (bool, error) {
			got, err := cs.ApiextensionsV1().CustomResourceDefinitions().Get(context.Background(), crd.Name, metav1.GetOptions{})
			if err != nil {
				return false, err
			}
			for _, c := range got.Status.Conditions {
				if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
					return true, nil
				}
			}
			return false, nil
		})
	}
}

// service creates namespace ns (if needed) and a headless Service in member i.
func service(t *testing.T, i int, ns, name string) {
	t.Helper()
	cs := member(t, i)
	ctx := context.Background()
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	svc := &corev1.Service{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: corev1.ServiceSpec{ClusterIP: corev1.ClusterIPNone, Ports: []corev1.ServicePort{{Name: "http", Port: 80}}}}
	if _, err := cs.CoreV1().Services(ns).Create(ctx, svc, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// slice is an EndpointSlice of Service svc with one endpoint per address;
// managedBy is its endpointslice.kubernetes.io/managed-by.
func slice(ns, name, svc, managedBy string, addresses ...string) *discoveryv1.EndpointSlice {
	s := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name,
			Labels: map[string]string{discoveryv1.LabelServiceName: svc, discoveryv1.LabelManagedBy: managedBy}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("http"), Port: ptr.To[int32](8080)}},
	}
	for _, a := range addresses {
		s.Endpoints = append(s.Endpoints, discoveryv1.Endpoint{Addresses: []string{a}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}})
	}
	return s
}

func createSlice(t *testing.T, i int, s *discoveryv1.EndpointSlice) {
	t.Helper()
	if _, err := member(t, i).DiscoveryV1().EndpointSlices(s.Namespace).Create(context.Background(), s, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// setAddresses gives slice ns/name one endpoint per address.
func setAddresses(t *testing.T, i int, ns, name string, addresses ...string) {
	t.Helper()
	slices := member(t, i).DiscoveryV1().EndpointSlices(ns)
	cur, err := slices.Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	next := slice(ns, name, cur.Labels[discoveryv1.LabelServiceName], cur.Labels[discoveryv1.LabelManagedBy], addresses...)
	cur.Endpoints = next.Endpoints
	if _, err := slices.Update(context.Background(), cur, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func export(t *testing.T, i int, ns, name string) {
	t.Helper()
	se := &mcsv1alpha1.ServiceExport{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
	if _, err := exports(t, i).MulticlusterV1alpha1().ServiceExports(ns).Create(context.Background(), se, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

func unexport(t *testing.T, i int, ns, name string) {
	t.Helper()
	if err := exports(t, i).MulticlusterV1alpha1().ServiceExports(ns).Delete(context.Background(), name, metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
}

// reported is the hub's Work for slice ns/name reported by cluster, nil when there is none.
func reported(t *testing.T, cluster, ns, name string) (*workv1alpha1.Work, error) {
	w, err := hub(t).WorkV1alpha1().Works(workv1alpha1.ExecutionNamespace(cluster)).Get(context.Background(),
		mcs.WorkName("EndpointSlice", name, ns), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return w, err
}

// waitReported waits until cluster's Work for slice ns/name exists and ok says it is as it should be.
func waitReported(t *testing.T, cluster, ns, name string, ok func(*workv1alpha1.Work) bool) *workv1alpha1.Work {
	t.Helper()
	var got *workv1alpha1.Work
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("the Work of EndpointSlice %s/%s in %s", ns, name, workv1alpha1.ExecutionNamespace(cluster)),
		func() (bool, error) {
			w, err := reported(t, cluster, ns, name)
			got = w
			return w != nil && (ok == nil || ok(w)), err
		})
	return got
}

// waitGone waits until cluster's Work for slice ns/name is gone.
func waitGone(t *testing.T, cluster, ns, name string) {
	t.Helper()
	testenv.Eventually(t, 30*time.Second, fmt.Sprintf("the Work of EndpointSlice %s/%s gone from the hub", ns, name), func() (bool, error) {
		w, err := reported(t, cluster, ns, name)
		return w == nil, err
	})
}
