package status

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	karmadaclient "github.com/tether-io/tether/pkg/generated/clientset/versioned"
	statuscluster "github.com/tether-io/tether/pkg/status/cluster"
	"github.com/tether-io/tether/test/testenv"
)

// memberID is the UID of the member's kube-system namespace.
func memberID(t *testing.T) string {
	t.Helper()
	ns, err := kubernetes.NewForConfigOrDie(testenv.Require(t).Members[0].Config).CoreV1().Namespaces().Get(context.Background(), "kube-system", metav1.GetOptions{})
	testenv.NoError(t, err)
	return string(ns.UID)
}

// precreate writes a Cluster as the hub admin would.
func precreate(t *testing.T, name, id string, mode clusterv1alpha1.ClusterSyncMode) {
	t.Helper()
	hub := karmadaclient.NewForConfigOrDie(testenv.Require(t).Hub.Config)
	c := &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: clusterv1alpha1.ClusterSpec{ID: id, SyncMode: mode,
		Taints: []corev1.Taint{{Key: "hub.example/owned", Effect: corev1.TaintEffectNoSchedule}}}}
	_, err := hub.ClusterV1alpha1().Clusters().Create(context.Background(), c, metav1.CreateOptions{})
	testenv.NoError(t, err)
	t.Cleanup(func() {
		_ = hub.ClusterV1alpha1().Clusters().Delete(context.Background(), name, metav1.DeleteOptions{})
	})
}

// joinErr joins and returns the error, waiting out RBAC propagation.
func joinErr(t *testing.T, a *agent) error {
	t.Helper()
	var err error
	_ = wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, 30*time.Second, true, func(ctx context.Context) (bool, error) {
		_, err = statuscluster.Join(ctx, statuscluster.JoinConfig{Hub: a.hub, Member: a.member, Settings: statuscluster.Settings{Name: a.name}})
		return !apierrors.IsForbidden(err), nil
	})
	return err
}

func TestJoinCreatesAPullClusterAndPatchesOnlyOwnedFields(t *testing.T) {
	a := newAgent(t, "rejoin")
	start := time.Now()
	res := a.join(t)
	spec := res.Cluster.Spec
	if !res.Created || spec.SyncMode != clusterv1alpha1.Pull || spec.ID != memberID(t) || spec.APIEndpoint != "https://member.example:6443" ||
		spec.Provider != "kwok" || spec.Region != "test" || !slices.Equal(spec.Zones, []string{"z1"}) {
		t.Fatalf("created %+v (created=%v), want a Pull cluster with the member's id and the settings", spec, res.Created)
	}
	if spec.SecretRef != nil {
		t.Errorf("secretRef %+v without credentials asked for", spec.SecretRef)
	}
	if res.IDChecked {
		t.Errorf("a least-privilege identity cannot list Clusters, yet IDChecked is true")
	}

	res = a.join(t, func(c *statuscluster.JoinConfig) {
		c.Settings.Region, c.Settings.Zones = "test-2", []string{"z1", "z2"}
	})
	if res.Created || res.Cluster.Spec.Region != "test-2" || !slices.Equal(res.Cluster.Spec.Zones, []string{"z1", "z2"}) {
		t.Fatalf("rejoin with a new region: %+v (created=%v)", res.Cluster.Spec, res.Created)
	}
	for _, r := range a.hubLog.Requests(since(start, "/apis/cluster.karmada.io/")) {
		if r.Method == http.MethodPut {
			t.Errorf("join sent a PUT (%s); the agent may only patch", r.Path)
		}
	}
}

func TestJoinAdoptsAHandWrittenClusterWithoutID(t *testing.T) {
	a := newAgent(t, "handmade")
	precreate(t, a.name, "", clusterv1alpha1.Push)
	res := a.join(t)
	if res.Created || res.Cluster.Spec.ID != memberID(t) || res.Cluster.Spec.SyncMode != clusterv1alpha1.Pull {
		t.Fatalf("adopted %+v (created=%v), want this member's id and Pull", res.Cluster.Spec, res.Created)
	}
	if len(res.Cluster.Spec.Taints) != 1 {
		t.Errorf("taints the agent does not own were changed: %+v", res.Cluster.Spec.Taints)
	}
}

func TestJoinRefusesANameHeldByAnotherCluster(t *testing.T) {
	a := newAgent(t, "taken")
	precreate(t, a.name, "another-member", clusterv1alpha1.Pull)
	err := joinErr(t, a)
	var clash *statuscluster.ClashError
	if !errors.As(err, &clash) || clash.Field != "name" || clash.HolderID != "another-member" {
		t.Fatalf("join of a taken name: %v, want a name clash", err)
	}
	t.Logf("refused: %v", err)
	c, err := karmadaclient.NewForConfigOrDie(testenv.Require(t).Hub.Config).ClusterV1alpha1().Clusters().Get(context.Background(), a.name, metav1.GetOptions{})
	testenv.NoError(t, err)
	if c.Spec.ID != "another-member" {
		t.Errorf("the other cluster's id became %q", c.Spec.ID)
	}
}

func TestJoinRefusesAnIDHeldByAnotherCluster(t *testing.T) {
	precreate(t, "first-name", memberID(t), clusterv1alpha1.Pull)
	// An identity that may list Clusters, as Karmada's register grants.
	lister := newAgent(t, "second-name", rbacv1.PolicyRule{APIGroups: []string{"cluster.karmada.io"}, Resources: []string{"clusters"}, Verbs: []string{"list"}})
	err := joinErr(t, lister)
	var clash *statuscluster.ClashError
	if !errors.As(err, &clash) || clash.Field != "id" || clash.Holder != "first-name" {
		t.Fatalf("join of a taken id: %v, want an id clash with first-name", err)
	}
	t.Logf("refused: %v", err)
}

func TestJoinUploadsCredentialsOnlyWhenAsked(t *testing.T) {
	env := testenv.Require(t)
	secrets := kubernetes.NewForConfigOrDie(env.Hub.Config).CoreV1().Secrets(clusterv1alpha1.DefaultClusterNamespace)
	a := newAgent(t, "creds")
	a.join(t)
	if _, err := secrets.Get(context.Background(), a.name, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Fatalf("a credentials Secret exists without credentials asked for: %v", err)
	}
	withToken := func(token string) func(*statuscluster.JoinConfig) {
		return func(c *statuscluster.JoinConfig) {
			c.Credentials = &statuscluster.Credentials{HubCore: a.hubKube, CABundle: []byte("ca"), Token: []byte(token)}
		}
	}
	res := a.join(t, withToken("t1"))
	if ref := res.Cluster.Spec.SecretRef; ref == nil || ref.Namespace != clusterv1alpha1.DefaultClusterNamespace || ref.Name != a.name {
		t.Fatalf("secretRef = %+v", ref)
	}
	s, err := secrets.Get(context.Background(), a.name, metav1.GetOptions{})
	testenv.NoError(t, err)
	if string(s.Data["token"]) != "t1" || string(s.Data["caBundle"]) != "ca" || len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != res.Cluster.UID {
		t.Fatalf("secret data %v owners %+v", s.Data, s.OwnerReferences)
	}
	a.join(t, withToken("t2"))
	s, err = secrets.Get(context.Background(), a.name, metav1.GetOptions{})
	testenv.NoError(t, err)
	if string(s.Data["token"]) != "t2" {
		t.Errorf("a rotated token was not uploaded: %q", s.Data["token"])
	}
}
