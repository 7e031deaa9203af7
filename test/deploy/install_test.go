package deploy

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/test/testenv"
)

// TestInstall installs Tether the way the charts do and runs what their
// pods would run: the hub chart on the hub and its approver; a token bound
// to the member; the agent chart in bootstrap mode on the member, its
// register Job, then the agent Deployment, which mounts the Secret the Job
// wrote. The member's Cluster turns Ready and a Work is applied.
func TestInstall(t *testing.T) {
	env := testenv.Require(t)
	member, hubCluster := env.Members[0], env.Hub
	const cluster = "member1"
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	hubObjs := installHub(t, ctx, hubCluster)
	approver := pod{cluster: hubCluster, namespace: namespace, spec: podOf(t, find(hubObjs, "Deployment", "tether-csr-approver"))}
	approver.start(t, ctx, "approver")

	token := createToken(t, ctx, hubCluster, cluster)
	values := map[string]any{
		"clusterName": cluster,
		"cluster":     map[string]any{"apiEndpoint": member.URL},
		"bootstrap": map[string]any{
			"hubAddress": strings.TrimPrefix(hubCluster.URL, "https://"), "token": token,
			"caCertHashes": []any{caHash(t, hubCluster)}, "discoveryTimeout": "2m",
		},
	}
	r, err := render(agentChart, values)
	if err != nil {
		t.Fatal(err)
	}
	ensureNamespace(t, member.Config, namespace)
	if err := newApplier(t, member.Config).apply(ctx, r.objects, false); err != nil {
		t.Fatalf("install the agent chart on the member: %v", err)
	}

	job := pod{cluster: member, namespace: namespace, spec: podOf(t, find(r.objects, "Job", "karmada-agent-register-1"))}
	out, err := job.start(t, ctx, "register-job").wait(3 * time.Minute)
	if err != nil || !strings.Contains(out, "created the agent's Secret karmada-kubeconfig") {
		t.Fatalf("the register Job failed: %v\n%s", err, out)
	}
	t.Logf("register Job:\n%s", out)

	ports, err := testenv.FreePorts(2)
	if err != nil {
		t.Fatal(err)
	}
	metrics, health := fmt.Sprintf("127.0.0.1:%d", ports[0]), fmt.Sprintf("127.0.0.1:%d", ports[1])
	agent := pod{cluster: member, namespace: namespace, spec: podOf(t, find(r.objects, "Deployment", "karmada-agent")),
		replace: map[string]string{"--metrics-bind-address=:8080": "--metrics-bind-address=" + metrics,
			"--health-probe-bind-address=:10357": "--health-probe-bind-address=" + health}}
	proc := agent.start(t, ctx, "agent")
	probe := agent.spec.Containers[0].StartupProbe.HTTPGet.Path
	testenv.Eventually(t, 2*time.Minute, "the agent's startup probe "+probe, func() (bool, error) {
		if proc.exited() {
			return false, fmt.Errorf("the agent exited: %s", tail(proc.output(), 20))
		}
		resp, err := http.Get("http://" + health + probe)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})

	karmada, err := versioned.NewForConfig(hubCluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, 2*time.Minute, "Cluster "+cluster+" Ready on the hub", func() (bool, error) {
		c, err := karmada.ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return meta.IsStatusConditionTrue(c.Status.Conditions, clusterv1alpha1.ClusterConditionReady), nil
	})
	workApplied(t, ctx, karmada, kubernetes.NewForConfigOrDie(member.Config), cluster)

	// The Job of the next revision (helm upgrade) finds the Secret and
	// leaves the live agent alone.
	out, err = job.start(t, ctx, "register-job-again").wait(time.Minute)
	if err != nil || !strings.Contains(out, "is registered already") {
		t.Fatalf("the register Job run again must do nothing: %v\n%s", err, out)
	}
}

// installHub applies the hub chart to the hub for real (CRDs first) and
// returns its objects.
func installHub(t *testing.T, ctx context.Context, c *testenv.Cluster) []*unstructured.Unstructured {
	t.Helper()
	r, err := render(hubChart, nil)
	if err != nil {
		t.Fatal(err)
	}
	ensureNamespace(t, c.Config, namespace)
	if err := newApplier(t, c.Config).apply(ctx, append(r.crds, r.objects...), false); err != nil {
		t.Fatalf("install the hub chart: %v", err)
	}
	return r.objects
}

// createToken creates a bootstrap token bound to cluster and waits until
// cluster-info is signed for it.
func createToken(t *testing.T, ctx context.Context, c *testenv.Cluster, cluster string) string {
	t.Helper()
	cs := kubernetes.NewForConfigOrDie(c.Config)
	token, err := hub.CreateToken(ctx, cs, hub.TokenOptions{TTL: time.Hour, Cluster: cluster})
	if err != nil {
		t.Fatal(err)
	}
	id, _, _ := strings.Cut(token, ".")
	if err := hub.WaitSigned(ctx, cs, id, time.Minute); err != nil {
		t.Fatal(err)
	}
	return token
}

// caHash is the pin of the hub's CA.
func caHash(t *testing.T, c *testenv.Cluster) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(c.PKIDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		t.Fatal("the hub's ca.crt holds no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return bootstrap.CACertHash(cert)
}

// workApplied creates a Work with a ConfigMap for cluster and waits until
// the ConfigMap is in the member and the Work is Applied.
func workApplied(t *testing.T, ctx context.Context, karmada versioned.Interface, member kubernetes.Interface, cluster string) {
	t.Helper()
	cm := &corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "installed"}, Data: map[string]string{"by": "tether"}}
	raw, err := json.Marshal(cm)
	if err != nil {
		t.Fatal(err)
	}
	work := &workv1alpha1.Work{
		ObjectMeta: metav1.ObjectMeta{Name: "installed", Namespace: workv1alpha1.ExecutionNamespace(cluster)},
		Spec: workv1alpha1.WorkSpec{Workload: workv1alpha1.WorkloadTemplate{Manifests: []workv1alpha1.Manifest{
			{RawExtension: runtime.RawExtension{Raw: raw}}}}},
	}
	if _, err := karmada.WorkV1alpha1().Works(work.Namespace).Create(ctx, work, metav1.CreateOptions{}); err != nil {
		t.Fatalf("create Work %s/%s: %v", work.Namespace, work.Name, err)
	}
	testenv.Eventually(t, 2*time.Minute, "Work "+work.Name+" Applied and its ConfigMap in the member", func() (bool, error) {
		if _, err := member.CoreV1().ConfigMaps("default").Get(ctx, cm.Name, metav1.GetOptions{}); err != nil {
			return false, err
		}
		w, err := karmada.WorkV1alpha1().Works(work.Namespace).Get(ctx, work.Name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		return meta.IsStatusConditionTrue(w.Status.Conditions, workv1alpha1.WorkApplied), nil
	})
}
