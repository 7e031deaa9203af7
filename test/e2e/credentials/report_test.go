package credentials

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// reported is what the hub holds for a cluster whose agent reports both.
type reported struct {
	namespace        string
	endpoint         string
	ca, token, imper []byte
}

// readReported reads both Secrets and both references on the hub, and
// checks their shape: Karmada's keys, label and owner.
func readReported(ctx context.Context, t *testing.T, cluster string) (reported, error) {
	return readReportedIn(ctx, t, ns, cluster)
}

// readReportedIn is readReported with the cluster namespace ns.
func readReportedIn(ctx context.Context, t *testing.T, ns, cluster string) (reported, error) {
	t.Helper()
	c, err := hubKarmada(t).ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{})
	if err != nil {
		return reported{}, err
	}
	if r := c.Spec.SecretRef; r == nil || r.Namespace != ns || r.Name != cluster {
		return reported{}, fmt.Errorf("spec.secretRef %+v", r)
	}
	if r := c.Spec.ImpersonatorSecretRef; r == nil || r.Namespace != ns || r.Name != cluster+"-impersonator" {
		return reported{}, fmt.Errorf("spec.impersonatorSecretRef %+v", r)
	}
	s, err := secretIn(ctx, t, ns, cluster)
	if err != nil {
		return reported{}, err
	}
	imp, err := secretIn(ctx, t, ns, cluster+"-impersonator")
	if err != nil {
		return reported{}, err
	}
	for _, s := range []*corev1.Secret{s, imp} {
		if s.Labels["karmada.io/system"] != "true" || len(s.OwnerReferences) != 1 || s.OwnerReferences[0].UID != c.UID ||
			s.OwnerReferences[0].Controller == nil || !*s.OwnerReferences[0].Controller {
			return reported{}, fmt.Errorf("Secret %s: labels %v owners %+v, want karmada.io/system and the Cluster as controller", s.Name, s.Labels, s.OwnerReferences)
		}
	}
	if len(s.Data) != 2 || len(imp.Data) != 1 {
		return reported{}, fmt.Errorf("Secret keys: %d and %d, want caBundle and token, and token", len(s.Data), len(imp.Data))
	}
	r := reported{namespace: ns, endpoint: c.Spec.APIEndpoint, ca: s.Data["caBundle"], token: s.Data["token"], imper: imp.Data["token"]}
	if len(r.ca) == 0 || len(r.token) == 0 || len(r.imper) == 0 {
		return reported{}, fmt.Errorf("empty values in the Secrets")
	}
	return r, nil
}

// waitReported waits for readReportedIn to succeed.
func waitReported(t *testing.T, ns, cluster string) reported {
	t.Helper()
	var got reported
	testenv.Eventually(t, 90*time.Second, "the credentials Secrets and the Cluster's references on the hub", func() (bool, error) {
		var err error
		got, err = readReportedIn(context.Background(), t, ns, cluster)
		return err == nil, err
	})
	return got
}

// assertWorks shows that the control plane could use what was reported:
// the member apiserver, verified with the reported CA bundle, authenticates
// each token as its ServiceAccount, and the KubeCredentials token may list
// namespaces (its ClusterRole), while the impersonator token, to which the
// agent grants nothing, may not.
func assertWorks(t *testing.T, cluster string, r reported) {
	t.Helper()
	ctx := context.Background()
	creds := asToken(t, r.endpoint, r.ca, r.token)
	user, err := whoAmI(ctx, creds)
	if want := "system:serviceaccount:" + r.namespace + ":karmada-" + cluster; err != nil || user != want {
		t.Fatalf("the KubeCredentials token: user %q, %v; want %s", user, err, want)
	}
	if _, err := creds.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
		t.Fatalf("list namespaces with the KubeCredentials token: %v", err)
	}
	imp := asToken(t, r.endpoint, r.ca, r.imper)
	user, err = whoAmI(ctx, imp)
	if want := "system:serviceaccount:" + r.namespace + ":karmada-impersonator"; err != nil || user != want {
		t.Fatalf("the impersonator token: user %q, %v; want %s", user, err, want)
	}
	if _, err := imp.CoreV1().Namespaces().List(ctx, metav1.ListOptions{Limit: 1}); !apierrors.IsForbidden(err) {
		t.Fatalf("list namespaces with the impersonator token: %v, want Forbidden (the control plane grants its rights)", err)
	}
}

// With both reported, the Secrets and references appear on the hub, the
// tokens work against the member, and a rotation replaces them in the
// Secrets (writing the Secrets only, never the Cluster), the new tokens
// working too. The agent logs what it reports and never a token.
func TestReportedCredentialsWorkAndRotate(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	const cluster = "creds-on"
	deleteClusterAtEnd(t, cluster)
	a := testenv.StartAgent(t, env, testenv.AgentOptions{Cluster: cluster, Args: []string{
		"--report-secrets=KubeCredentials,KubeImpersonator", "--report-secrets-refresh-interval=20s"}})
	first := waitReported(t, ns, cluster)
	assertWorks(t, cluster, first)
	if lines := logLines(t, a, "Reporting member credentials to the hub"); len(lines) != 1 || !strings.Contains(lines[0], "KubeCredentials,KubeImpersonator") {
		t.Errorf("start-up lines saying what is reported: %q", lines)
	}

	mark, err := env.Hub.AuditMark()
	if err != nil {
		t.Fatal(err)
	}
	var second reported
	testenv.Eventually(t, 90*time.Second, "rotated tokens in the hub Secrets", func() (bool, error) {
		var err error
		if second, err = readReported(ctx, t, cluster); err != nil {
			return false, err
		}
		return !bytes.Equal(second.token, first.token) && !bytes.Equal(second.imper, first.imper), nil
	})
	assertWorks(t, cluster, second)
	writes, err := env.Hub.AuditEvents(mark, testenv.WritesBy(clusterv1alpha1.AgentUser(cluster)))
	if err != nil {
		t.Fatal(err)
	}
	var secretWrites int
	for _, w := range writes {
		switch {
		case w.Resource == "clusters" && w.Subresource == "":
			t.Errorf("the rotation wrote the Cluster: %s", describe(w))
		case w.Resource == "secrets":
			secretWrites++
		}
	}
	if secretWrites < 2 {
		t.Errorf("%d Secret writes during the rotation, want one per Secret at least", secretWrites)
	}
	t.Logf("rotation: %d Secret writes by the agent, no Cluster write", secretWrites)
	assertLogHasNoToken(t, a, first.token, first.imper, second.token, second.imper)
}

// By default nothing is reported: no Secret on the hub, no reference, no
// ServiceAccount in the member, and the agent says so at start.
func TestNothingReportedByDefault(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	const cluster = "creds-off"
	deleteClusterAtEnd(t, cluster)
	a := testenv.StartAgent(t, env, testenv.AgentOptions{Cluster: cluster})
	a.WaitReady(t, 90*time.Second)
	testenv.Eventually(t, 60*time.Second, "the start-up line saying nothing is reported", func() (bool, error) {
		return len(logLines(t, a, "Member credentials are not reported to the hub")) == 1, nil
	})
	for _, name := range []string{cluster, cluster + "-impersonator"} {
		if _, err := secret(ctx, t, name); !apierrors.IsNotFound(err) {
			t.Errorf("hub Secret %s/%s: %v, want NotFound", ns, name, err)
		}
	}
	c, err := hubKarmada(t).ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Spec.SecretRef != nil || c.Spec.ImpersonatorSecretRef != nil {
		t.Errorf("references without reporting: %+v %+v", c.Spec.SecretRef, c.Spec.ImpersonatorSecretRef)
	}
	if _, err := memberKube(t).CoreV1().ServiceAccounts(ns).Get(ctx, "karmada-"+cluster, metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("member ServiceAccount karmada-%s: %v, want NotFound", cluster, err)
	}
}
