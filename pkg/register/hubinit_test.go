package register_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"

	"github.com/tether-io/tether/pkg/register"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
)

// TestHubInitIsIdempotent runs hub init a second time: it succeeds, keeps
// cluster-info (with the signatures the bootstrapsigner added) and leaves
// every object in place.
func TestHubInitIsIdempotent(t *testing.T) {
	env := tetherHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	token := newToken(t, ctx, env, hub.TokenOptions{TTL: time.Hour})
	id, _, _ := strings.Cut(token, ".")
	admin := kubernetes.NewForConfigOrDie(env.Hub.Config)
	cfg := hub.InitConfig{Server: env.Hub.URL, CAData: hubCA(t, env)}
	created, err := hub.Init(ctx, env.Hub.Config, cfg)
	if err != nil || created {
		t.Fatalf("second hub init: created=%v err=%v", created, err)
	}
	cm, err := admin.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, bootstrapapi.ConfigMapClusterInfo, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cm.Data[bootstrapapi.JWSSignatureKeyPrefix+id]; !ok {
		t.Error("hub init dropped the token signatures from cluster-info")
	}
	kc, err := clientcmd.Load([]byte(cm.Data[bootstrapapi.KubeConfigKey]))
	if err != nil || len(kc.Clusters) != 1 || kc.Clusters[""].Server != env.Hub.URL {
		t.Fatalf("cluster-info kubeconfig: %+v, %v", kc, err)
	}
	objs, err := hub.InitObjects(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client, _ := objects.NewClient(env.Hub.Config)
	found, err := client.Existing(ctx, objs...)
	if err != nil || len(found) != len(objs) {
		t.Fatalf("%d of %d hub init objects exist (%v)", len(found), len(objs), err)
	}
	anon := kubernetes.NewForConfigOrDie(env.Hub.Anonymous())
	if _, err := anon.CoreV1().ConfigMaps(metav1.NamespacePublic).Get(ctx, hub.HubInfoConfigMap, metav1.GetOptions{}); err != nil {
		t.Errorf("anonymous read of %s: %v", hub.HubInfoConfigMap, err)
	}
}

// TestRegisterDryRun prints the member objects and the RBAC the approver
// would create, and creates nothing.
func TestRegisterDryRun(t *testing.T) {
	env := tetherHub(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	token := newToken(t, ctx, env, hub.TokenOptions{TTL: time.Hour})
	opts := registerOptions(t, env, token)
	opts.DryRun, opts.ClusterName, opts.AgentImage = true, "dryrun1", "example.com/tether-agent:v9"
	var out bytes.Buffer
	if err := register.Register(ctx, register.Config{Options: opts, Member: env.Members[0].Config, Out: &out}); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{"kind: Deployment", "image: example.com/tether-agent:v9", "--cluster-name=dryrun1",
		"name: system:karmada:dryrun1:agent", "namespace: karmada-es-dryrun1", "(tether hub)"} {
		if !strings.Contains(text, want) {
			t.Errorf("dry-run output lacks %q", want)
		}
	}
	if strings.Contains(text, strings.SplitN(token, ".", 2)[1]) {
		t.Error("dry-run output contains the token secret")
	}
	member := kubernetes.NewForConfigOrDie(env.Members[0].Config)
	if _, err := member.AppsV1().Deployments("karmada-system").Get(ctx, register.AgentName, metav1.GetOptions{}); err == nil {
		t.Error("dry run created the agent Deployment")
	}
	hubK := kubernetes.NewForConfigOrDie(env.Hub.Config)
	if _, err := hubK.CoreV1().Namespaces().Get(ctx, "karmada-es-dryrun1", metav1.GetOptions{}); err == nil {
		t.Error("dry run created the execution namespace")
	}
}
