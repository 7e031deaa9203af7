package credentials

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// karmadaAgentLeftovers writes what karmada-agent (whose default reports
// both) leaves on the hub: the Cluster with both references, and the two
// Secrets it owns, holding a token of its own.
func karmadaAgentLeftovers(t *testing.T, cluster string) {
	t.Helper()
	ctx := context.Background()
	if err := testenv.Require(t).Hub.GrantAgent(ctx, cluster); err != nil { // and the cluster namespace
		t.Fatal(err)
	}
	c := &clusterv1alpha1.Cluster{ObjectMeta: metav1.ObjectMeta{Name: cluster}, Spec: clusterv1alpha1.ClusterSpec{
		SyncMode: clusterv1alpha1.Pull, APIEndpoint: testenv.Require(t).Members[0].URL,
		SecretRef:             &clusterv1alpha1.LocalSecretReference{Namespace: ns, Name: cluster},
		ImpersonatorSecretRef: &clusterv1alpha1.LocalSecretReference{Namespace: ns, Name: cluster + "-impersonator"}}}
	c, err := hubKarmada(t).ClusterV1alpha1().Clusters().Create(ctx, c, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	deleteClusterAtEnd(t, cluster)
	owner := metav1.OwnerReference{APIVersion: "cluster.karmada.io/v1alpha1", Kind: "Cluster", Name: cluster, UID: c.UID,
		Controller: ptr.To(true), BlockOwnerDeletion: ptr.To(true)}
	for name, data := range map[string]map[string][]byte{
		cluster:                   {"caBundle": []byte("karmada-agent-ca"), "token": []byte("karmada-agent-token")},
		cluster + "-impersonator": {"token": []byte("karmada-agent-impersonator-token")},
	} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, OwnerReferences: []metav1.OwnerReference{owner}}, Data: data}
		if _, err := hubKube(t).CoreV1().Secrets(ns).Create(ctx, s, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
}

// A cluster migrated from karmada-agent runs Tether with karmadactl's
// Deployment, which passes no --report-secrets: Tether leaves the
// references and Secrets karmada-agent wrote as they are (the control plane
// keeps using them) and warns, naming the flag. With the flag, Tether
// takes them over and the tokens become its own.
func TestMigratedClusterKeepsKarmadaAgentCredentials(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	const cluster = "creds-migrated"
	karmadaAgentLeftovers(t, cluster)
	before, err := secret(ctx, t, cluster)
	if err != nil {
		t.Fatal(err)
	}
	a := testenv.StartAgent(t, env, testenv.AgentOptions{Cluster: cluster})
	testenv.Eventually(t, 90*time.Second, "a warning for each reference the agent does not manage", func() (bool, error) {
		lines := logLines(t, a, "the Cluster references member credentials this agent does not report")
		if len(lines) != 2 {
			return false, fmt.Errorf("%d warning lines", len(lines))
		}
		for i, want := range []string{"--report-secrets includes KubeCredentials", "--report-secrets includes KubeImpersonator"} {
			if !strings.Contains(lines[i], want) {
				t.Errorf("warning %d does not name %q: %s", i, want, lines[i])
			}
		}
		return true, nil
	})
	after, err := secret(ctx, t, cluster)
	if err != nil {
		t.Fatal(err)
	}
	if after.ResourceVersion != before.ResourceVersion {
		t.Errorf("the Secret karmada-agent wrote changed without --report-secrets")
	}
	c, err := hubKarmada(t).ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Spec.SecretRef == nil || c.Spec.ImpersonatorSecretRef == nil {
		t.Errorf("the references karmada-agent wrote were removed: %+v %+v", c.Spec.SecretRef, c.Spec.ImpersonatorSecretRef)
	}

	a.Stop()
	b := testenv.StartAgent(t, env, testenv.AgentOptions{Cluster: cluster, Args: []string{"--report-secrets=KubeCredentials,KubeImpersonator"}})
	var got reported
	testenv.Eventually(t, 90*time.Second, "Tether's tokens in the Secrets karmada-agent wrote", func() (bool, error) {
		if got, err = readReported(ctx, t, cluster); err != nil {
			return false, err
		}
		return !bytes.Equal(got.token, []byte("karmada-agent-token")) && !bytes.Equal(got.imper, []byte("karmada-agent-impersonator-token")), nil
	})
	assertWorks(t, cluster, got)
	if lines := logLines(t, b, "does not report"); len(lines) != 0 {
		t.Errorf("warnings with --report-secrets: %q", lines)
	}
}
