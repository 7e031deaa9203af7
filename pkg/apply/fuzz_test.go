package apply

import (
	"reflect"
	"strconv"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/openapi"
	"k8s.io/client-go/openapi/openapitest"
	"sigs.k8s.io/structured-merge-diff/v6/typed"
)

// staticOpenAPI serves the OpenAPI v3 documents of core/v1, apps/v1 and
// batch/v1 that client-go ships for tests, so a TypeCache has the
// apiserver's real schemas (list keys, atomic maps) without an apiserver.
type staticOpenAPI struct{ discovery.DiscoveryInterface }

func (staticOpenAPI) OpenAPIV3() openapi.Client { return openapitest.NewEmbeddedFileClient() }

// fuzzApplyKinds are the kinds FuzzCompareLocally chooses from; past the
// end of the list an object keeps its own apiVersion and kind.
var fuzzApplyKinds = []schema.GroupVersionKind{
	{Version: "v1", Kind: "ConfigMap"},
	{Version: "v1", Kind: "Secret"},
	{Version: "v1", Kind: "Service"},
	{Version: "v1", Kind: "ServiceAccount"},
	{Version: "v1", Kind: "Pod"},
	{Group: "apps", Version: "v1", Kind: "Deployment"},
	{Group: "apps", Version: "v1", Kind: "StatefulSet"},
	{Group: "apps", Version: "v1", Kind: "DaemonSet"},
	{Group: "batch", Version: "v1", Kind: "Job"},
	{Group: "batch", Version: "v1", Kind: "CronJob"},
}

// Modes of FuzzCompareLocally, bits of its mode argument.
const (
	// liveOverlay lays desired over the fuzzed live object, so that live
	// holds desired's values plus whatever else the fuzzer put there.
	liveOverlay = 1 << iota
	// liveOwnsDesired records desired's field set as our manager's Apply
	// entry in live's managedFields, as a successful apply would.
	liveOwnsDesired
)

var fuzzTypes = sync.OnceValue(func() *TypeCache { return NewTypeCache(staticOpenAPI{}) })

type compareSeed struct {
	kind          uint8
	mode          uint8
	desired, live string
	want          verdict
}

// compareSeeds are manifests as a Work carries them, and live objects as
// the apiserver returns them: defaulted fields (a port's protocol, a
// Deployment's strategy), status, and fields other managers own.
var compareSeeds = []compareSeed{
	{0, liveOverlay | liveOwnsDesired,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web","namespace":"shop","labels":{"app":"web"},"annotations":{"team.example.com/owner":"web"}},"data":{"key":"value","app.yaml":"a: 1\n"}}`,
		`{"metadata":{"uid":"0b5a4c1e-1f7e-4f0a-9d9b-1c2d3e4f5a6b","resourceVersion":"4711","creationTimestamp":"2024-05-01T10:00:00Z","labels":{"karmada.io/managed":"true"}},"data":{"other":"theirs"}}`, same},
	{1, liveOverlay | liveOwnsDesired,
		`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"creds","namespace":"shop"},"type":"Opaque","stringData":{"password":"hunter2"},"data":{"token":"c2VjcmV0"}}`,
		`{"metadata":{"resourceVersion":"12"},"data":{"password":"aHVudGVyMg=="}}`, same},
	{2, liveOverlay | liveOwnsDesired,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},"spec":{"selector":{"app":"web"},"ports":[{"name":"http","port":80,"targetPort":8080}]}}`,
		`{"spec":{"type":"ClusterIP","clusterIP":"10.96.12.7","clusterIPs":["10.96.12.7"],"sessionAffinity":"None","ipFamilies":["IPv4"],"ipFamilyPolicy":"SingleStack","internalTrafficPolicy":"Cluster","ports":[{"name":"http","port":80,"targetPort":8080,"protocol":"TCP"}]},"status":{"loadBalancer":{}}}`, same},
	{2, liveOwnsDesired,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},"spec":{"type":"NodePort","ports":[{"port":80,"targetPort":"http","nodePort":30080}]}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"shop"},"spec":{"type":"NodePort","ports":[{"port":80,"targetPort":"http","nodePort":30080,"protocol":"TCP"},{"port":443,"targetPort":8443,"protocol":"TCP"}]}}`, same},
	{5, liveOverlay | liveOwnsDesired,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop","labels":{"app":"web"}},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","ports":[{"containerPort":80}],"env":[{"name":"MODE","value":"prod"}],"resources":{"requests":{"cpu":"100m","memory":"64Mi"}}}]}}}}`,
		`{"metadata":{"generation":3,"annotations":{"deployment.kubernetes.io/revision":"2"}},"spec":{"progressDeadlineSeconds":600,"revisionHistoryLimit":10,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},"template":{"spec":{"restartPolicy":"Always","dnsPolicy":"ClusterFirst","containers":[{"name":"nginx","imagePullPolicy":"IfNotPresent","terminationMessagePath":"/dev/termination-log","ports":[{"containerPort":80,"protocol":"TCP"}]}]}}},"status":{"replicas":2,"readyReplicas":2,"observedGeneration":3}}`, same},
	{5, liveOwnsDesired,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},"spec":{"replicas":2,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27"}]}}}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},"spec":{"replicas":5,"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.26"},{"name":"sidecar","image":"envoy"}]}}}}`, changed},
	{5, liveOwnsDesired,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","resources":{"limits":{"cpu":"1000m"}}}]}}}}`,
		`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"shop"},"spec":{"selector":{"matchLabels":{"app":"web"}},"template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"nginx","image":"nginx:1.27","resources":{"limits":{"cpu":"1"}}}]}}}}`, inconclusive},
	{6, liveOverlay | liveOwnsDesired,
		`{"apiVersion":"apps/v1","kind":"StatefulSet","metadata":{"name":"db","namespace":"shop"},"spec":{"serviceName":"db","replicas":3,"selector":{"matchLabels":{"app":"db"}},"template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"pg","image":"postgres:16","volumeMounts":[{"name":"data","mountPath":"/var/lib/postgresql"}]}]}},"volumeClaimTemplates":[{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"10Gi"}}}}]}}`,
		`{"spec":{"podManagementPolicy":"OrderedReady","updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"partition":0}}}}`, same},
	{8, liveOverlay | liveOwnsDesired,
		`{"apiVersion":"batch/v1","kind":"Job","metadata":{"name":"migrate","namespace":"shop"},"spec":{"backoffLimit":2,"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"m","image":"migrate","command":["/migrate","--all"]}]}}}}`,
		`{"spec":{"completions":1,"parallelism":1,"suspend":false,"template":{"metadata":{"labels":{"batch.kubernetes.io/job-name":"migrate"}}}},"status":{"succeeded":1}}`, same},
	{9, liveOverlay,
		`{"apiVersion":"batch/v1","kind":"CronJob","metadata":{"name":"nightly","namespace":"shop"},"spec":{"schedule":"0 2 * * *","jobTemplate":{"spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"n","image":"nightly"}]}}}}}}`,
		`{"metadata":{"managedFields":[{"manager":"tether","operation":"Apply","apiVersion":"batch/v1","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:schedule":{},"f:jobTemplate":{"f:spec":{"f:template":{"f:spec":{"f:restartPolicy":{},"f:containers":{"k:{\"name\":\"n\"}":{".":{},"f:name":{},"f:image":{}}}}}}}}}}]}}`, same},
	{0, liveOverlay,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web","namespace":"shop"},"data":{"key":"value"}}`,
		`{"metadata":{"managedFields":[{"manager":"kubectl-client-side-apply","operation":"Update","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:key":{}}}}]}}`, changed},
	{0, 0,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"web","namespace":"shop"},"data":{"key":"value","new":"entry"}}`,
		`{"metadata":{"managedFields":[{"manager":"tether","operation":"Apply","apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:key":{}}}}]},"data":{"key":"value"}}`, changed},
	{255, 0,
		`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w"},"spec":{"size":3}}`,
		`{"apiVersion":"example.com/v1","kind":"Widget","metadata":{"name":"w","managedFields":[{"manager":"tether","operation":"Apply","fieldsType":"FieldsV1","fieldsV1":{"f:spec":{"f:size":{}}}}]},"spec":{"size":3}}`, inconclusive},
}

// TestCompareLocallySeeds keeps FuzzCompareLocally's seeds meaningful: they
// reach every verdict, "same" included, where its property is checked.
func TestCompareLocallySeeds(t *testing.T) {
	a := New(Config{Types: fuzzTypes()})
	for i, s := range compareSeeds {
		desired, live, ok := compareInputs(s.kind, s.mode, []byte(s.desired), []byte(s.live))
		if !ok {
			t.Fatalf("seed %d does not decode", i)
		}
		if v, reason := a.compareLocally(desired, live); v != s.want {
			t.Errorf("seed %d (%s): verdict %d (%s), want %d", i, desired.GetKind(), v, reason, s.want)
		}
	}
}

// FuzzCompareLocally gives the apply engine's unchanged-check any manifest
// and live object, typed with the apiserver's real schemas. It never
// panics, never changes its inputs, and its verdict is deterministic; and when it says
// nothing would change, every value the manifest sets really is in the
// live object, by a comparison that shares no code with it.
func FuzzCompareLocally(f *testing.F) {
	for _, s := range compareSeeds {
		f.Add(s.kind, s.mode, []byte(s.desired), []byte(s.live))
	}
	f.Fuzz(func(t *testing.T, kind, mode uint8, desiredJSON, liveJSON []byte) {
		desired, live, ok := compareInputs(kind, mode, desiredJSON, liveJSON)
		if !ok {
			return
		}
		a := New(Config{Types: fuzzTypes()})
		desiredIn, liveIn := desired.DeepCopy(), live.DeepCopy()
		v, reason := a.compareLocally(desired, live)
		if !reflect.DeepEqual(desired.Object, desiredIn.Object) || !reflect.DeepEqual(live.Object, liveIn.Object) {
			t.Fatal("compareLocally changed its inputs")
		}
		// The reason is only ever logged, and may name fields in map order.
		if v2, reason2 := a.compareLocally(desired, live); v2 != v {
			t.Fatalf("compareLocally is not deterministic: %d %q, then %d %q", v, reason, v2, reason2)
		}
		switch v {
		case same:
			if path, ok := contains(identityless(desired), live.Object, ""); !ok {
				t.Fatalf("compareLocally says unchanged, but live differs from the manifest at %s", path)
			}
		case changed, inconclusive:
			if reason == "" {
				t.Fatalf("verdict %d without a reason", v)
			}
		default:
			t.Fatalf("unknown verdict %d", v)
		}
	})
}

// compareInputs builds the manifest and the live object of one fuzz case,
// as ApplyOne hands them to compareLocally.
func compareInputs(kind, mode uint8, desiredJSON, liveJSON []byte) (desired, live *unstructured.Unstructured, ok bool) {
	var d, l map[string]any
	if utiljson.Unmarshal(desiredJSON, &d) != nil || d == nil || utiljson.Unmarshal(liveJSON, &l) != nil || l == nil {
		return nil, nil, false
	}
	desired = &unstructured.Unstructured{Object: d}
	if int(kind) < len(fuzzApplyKinds) {
		desired.SetGroupVersionKind(fuzzApplyKinds[kind])
	}
	desired = normalize(desired)
	if mode&liveOverlay != 0 {
		l = overlay(l, desired.DeepCopy().Object).(map[string]any)
	}
	live = &unstructured.Unstructured{Object: l}
	// A read of desired's identity returns an object of that identity.
	live.SetAPIVersion(desired.GetAPIVersion())
	live.SetKind(desired.GetKind())
	if mode&liveOwnsDesired != 0 {
		if fields := desiredFields(desired); fields != nil {
			live.SetManagedFields([]metav1.ManagedFieldsEntry{{Manager: DefaultFieldManager, Operation: metav1.ManagedFieldsOperationApply,
				APIVersion: desired.GetAPIVersion(), FieldsType: "FieldsV1", FieldsV1: metav1.NewFieldsV1(string(fields))}})
		}
	}
	return desired, live, true
}

// desiredFields is the FieldsV1 JSON an apply of desired would record for
// its manager, or nil when desired does not type.
func desiredFields(desired *unstructured.Unstructured) []byte {
	gv, err := schema.ParseGroupVersion(desired.GetAPIVersion())
	if err != nil {
		return nil
	}
	tc, err := fuzzTypes().For(gv)
	if err != nil {
		return nil
	}
	tv, err := tc.ObjectToTyped(desired, typed.AllowDuplicates)
	if err != nil {
		return nil
	}
	set, err := tv.ToFieldSet()
	if err != nil {
		return nil
	}
	raw, err := set.Difference(strippedPaths).ToJSON()
	if err != nil {
		return nil
	}
	return raw
}

// overlay lays top over base: maps merge key by key, lists of one length
// merge item by item (so live list items keep defaulted fields), anything
// else is top's.
func overlay(base, top any) any {
	switch t := top.(type) {
	case map[string]any:
		b, ok := base.(map[string]any)
		if !ok {
			return t
		}
		for k, v := range t {
			b[k] = overlay(b[k], v)
		}
		return b
	case []any:
		b, ok := base.([]any)
		if !ok || len(b) != len(t) {
			return t
		}
		for i := range t {
			b[i] = overlay(b[i], t[i])
		}
		return b
	default:
		return t
	}
}

// identityless is desired without the fields that name the object: the
// live object was read by them.
func identityless(desired *unstructured.Unstructured) map[string]any {
	c := desired.DeepCopy().Object
	delete(c, "apiVersion")
	delete(c, "kind")
	unstructured.RemoveNestedField(c, "metadata", "name")
	unstructured.RemoveNestedField(c, "metadata", "namespace")
	return c
}

// contains reports whether live holds every value want sets: maps key by
// key, each list item in some live item, scalars equal (numbers by value).
// It returns the first path where they differ.
func contains(want, live any, path string) (string, bool) {
	switch w := want.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return path, false
		}
		for k, v := range w {
			if p, ok := contains(v, l[k], path+"."+k); !ok {
				return p, false
			}
		}
		return "", true
	case []any:
		l, ok := live.([]any)
		if !ok {
			return path, false
		}
		for i, v := range w {
			if !containedInSome(v, l, path) {
				return path + "[" + strconv.Itoa(i) + "]", false
			}
		}
		return "", true
	default:
		if !scalarEqual(w, live) {
			return path, false
		}
		return "", true
	}
}

func containedInSome(want any, live []any, path string) bool {
	for _, l := range live {
		if _, ok := contains(want, l, path); ok {
			return true
		}
	}
	return false
}

func scalarEqual(a, b any) bool {
	if x, ok := number(a); ok {
		y, ok := number(b)
		return ok && x == y
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}
