package execution

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	typedcorev1 "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/test/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{Members: 2}) }

// writeLines returns the member (or hub) writes a Recorder saw, as
// "METHOD path body" lines.
func writeLines(rec *testenv.Recorder) (int, []string) {
	var out []string
	for _, r := range rec.Writes() {
		out = append(out, r.Method+" "+r.Path+" "+string(r.Body))
	}
	return len(out), out
}

type agent struct {
	ctrl    *Controller
	cancel  context.CancelFunc
	done    chan struct{}
	runErr  error // what Run returned; read after done is closed
	member  *testenv.Recorder
	hubPeek *testenv.Recorder
}

// stop stops the controller and fails t if Run returned an error. The
// controller's goroutine never reports to a test itself: the shared agent
// outlives the test that started it.
func (a *agent) stop(t *testing.T) {
	t.Helper()
	a.cancel()
	<-a.done
	if a.runErr != nil {
		t.Errorf("controller: %v", a.runErr)
	}
}

var rbacOnce sync.Map

// agentHubConfig returns a hub identity for cluster with only what the Work
// controller needs (pkg/hubaccess: its Works and their status, Events,
// policies, customizations, and its own Cluster).
func agentHubConfig(t *testing.T, cluster string) *rest.Config {
	t.Helper()
	env := testenv.Require(t)
	user := "system:karmada:agent:" + cluster
	if _, done := rbacOnce.LoadOrStore(cluster, true); !done {
		// The Work controller's tasks, with the rules the grant is built from.
		tasks := append(hubaccess.Needs{Works: true, RenderAlways: true}.Tasks(), hubaccess.WatchCluster)
		rules := hubaccess.ByNamespace(hubaccess.Rules(cluster, clusterv1alpha1.DefaultClusterNamespace, tasks...))
		must(t, testenv.GrantRules(context.Background(), env.Hub.Config, user, rules))
	}
	cfg, err := env.Hub.Identity(user, "system:karmada:agents")
	must(t, err)
	cfg.QPS, cfg.Burst = 200, 400
	return cfg
}

// startAgent runs a sync controller for cluster against member i.
func startAgent(t *testing.T, cluster string, member int, tweak func(*Config)) *agent {
	t.Helper()
	env := testenv.Require(t)
	a := &agent{member: &testenv.Recorder{}, hubPeek: &testenv.Recorder{}, done: make(chan struct{})}
	memberCfg := a.member.Wrap(rest.CopyConfig(env.Members[member].Config))
	hubCfg := agentHubConfig(t, cluster)
	ensureCluster(t, cluster) // as the agent's join does
	a.hubPeek.Wrap(hubCfg)
	cfg := Config{
		ClusterName:     cluster,
		Hub:             versioned.NewForConfigOrDie(hubCfg),
		MemberDynamic:   dynamic.NewForConfigOrDie(memberCfg),
		MemberDiscovery: discovery.NewDiscoveryClientForConfigOrDie(memberCfg),
		MemberMetadata:  metadata.NewForConfigOrDie(quiet(memberCfg)),
		StatusWindow:    50 * time.Millisecond,
		Events:          kubernetes.NewForConfigOrDie(hubCfg),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	ctrl, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a.ctrl = ctrl
	ctx, cancel := context.WithCancel(context.Background())
	a.cancel = cancel
	go func() {
		defer close(a.done)
		if err := ctrl.Run(ctx); err != nil {
			a.runErr = fmt.Errorf("controller %s: %w", cluster, err)
		}
	}()
	testenv.Eventually(t, 30*time.Second, "controller "+cluster+" synced", func() (bool, error) { return ctrl.Synced(), nil })
	return a
}

var sharedAgent struct {
	once sync.Once
	a    *agent
}

// member1Agent is the controller of cluster member1, shared by the scenario tests.
func member1Agent(t *testing.T) *agent {
	testenv.Require(t) // skips before the once, so a skipped run does not poison it
	sharedAgent.once.Do(func() { sharedAgent.a = startAgent(t, "member1", 0, nil) })
	if sharedAgent.a == nil {
		t.Fatal("the member1 controller failed to start")
	}
	return sharedAgent.a
}

// deleteWorkAndWait deletes a Work and waits until its named ConfigMaps in
// the member and then the Work itself are gone.
func deleteWorkAndWait(t *testing.T, es, name string, cms typedcorev1.ConfigMapInterface, configMaps ...string) {
	t.Helper()
	must(t, hubClient(t).WorkV1alpha1().Works(es).Delete(context.Background(), name, metav1.DeleteOptions{}))
	testenv.Eventually(t, time.Minute, "member objects deleted and the Work gone", func() (bool, error) {
		ctx := context.Background()
		for _, cm := range configMaps {
			if _, err := cms.Get(ctx, cm, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
				return false, nil
			}
		}
		_, err := hubClient(t).WorkV1alpha1().Works(es).Get(ctx, name, metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
}

func hubClient(t *testing.T) versioned.Interface {
	return versioned.NewForConfigOrDie(testenv.Require(t).Hub.Config)
}

func memberClient(t *testing.T, i int) kubernetes.Interface {
	return kubernetes.NewForConfigOrDie(testenv.Require(t).Members[i].Config)
}

// manifests turns YAML documents into Work manifests.
func manifests(t *testing.T, docs ...string) []workv1alpha1.Manifest {
	t.Helper()
	var out []workv1alpha1.Manifest
	for _, d := range docs {
		raw, err := yaml.YAMLToJSON([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, workv1alpha1.Manifest{RawExtension: runtime.RawExtension{Raw: raw}})
	}
	return out
}

func newWork(cluster, name string, ms []workv1alpha1.Manifest) *workv1alpha1.Work {
	return &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: workv1alpha1.ExecutionNamespace(cluster),
			Finalizers: []string{workv1alpha1.ExecutionControllerFinalizer}},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: ms}},
	}
}

func createWork(t *testing.T, w *workv1alpha1.Work) *workv1alpha1.Work {
	t.Helper()
	out, err := hubClient(t).WorkV1alpha1().Works(w.Namespace).Create(context.Background(), w, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func updateWork(t *testing.T, ns, name string, mutate func(*workv1alpha1.Work)) {
	t.Helper()
	works := hubClient(t).WorkV1alpha1().Works(ns)
	testenv.Eventually(t, 30*time.Second, "update Work "+ns+"/"+name, func() (bool, error) {
		w, err := works.Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		mutate(w)
		_, err = works.Update(context.Background(), w, metav1.UpdateOptions{})
		return err == nil, err
	})
}

// waitApplied waits until the Work's Applied condition has the wanted status
// for its current generation, and returns the Work.
func waitApplied(t *testing.T, ns, name string, want metav1.ConditionStatus) *workv1alpha1.Work {
	t.Helper()
	var w *workv1alpha1.Work
	defer func() {
		if t.Failed() { // Eventually gave up: show the Work as last read
			raw, _ := json.MarshalIndent(w, "", "  ")
			t.Logf("Work %s/%s as last read:\n%s", ns, name, raw)
		}
	}()
	testenv.Eventually(t, time.Minute, fmt.Sprintf("Work %s/%s Applied=%s", ns, name, want), func() (bool, error) {
		got, err := hubClient(t).WorkV1alpha1().Works(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		w = got
		c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
		return c != nil && c.Status == want && c.ObservedGeneration == w.Generation, nil
	})
	return w
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ignoreExists[T any](_ T, err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func memberNamespace(t *testing.T, i int, name string) {
	t.Helper()
	_, err := memberClient(t, i).CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

func configMap(ns, name string, data map[string]string) string {
	raw, _ := json.Marshal(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name, "namespace": ns}, "data": data})
	return string(raw)
}

// eventsFor lists the hub Events about a Work.
func eventsFor(t *testing.T, ns, name string) []corev1.Event {
	t.Helper()
	list, err := kubernetes.NewForConfigOrDie(testenv.Require(t).Hub.Config).CoreV1().Events(ns).List(context.Background(),
		metav1.ListOptions{FieldSelector: "involvedObject.kind=Work,involvedObject.name=" + name})
	if err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// ensureCluster creates the Cluster object on the hub if it is missing.
func ensureCluster(t *testing.T, name string) {
	t.Helper()
	c := &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: clusterv1alpha1.ClusterSpec{SyncMode: clusterv1alpha1.Pull}}
	must(t, ignoreExists(hubClient(t).ClusterV1alpha1().Clusters().Create(context.Background(), c, metav1.CreateOptions{})))
}

// quiet drops the apiserver's deprecation warnings (the orphan scan lists
// every resource, deprecated ones too).
func quiet(cfg *rest.Config) *rest.Config {
	cfg = rest.CopyConfig(cfg)
	cfg.WarningHandler = rest.NoWarnings{}
	return cfg
}
