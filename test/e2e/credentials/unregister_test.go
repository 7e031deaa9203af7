package credentials

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-io/tether/pkg/credentials"
	"github.com/tether-io/tether/pkg/register"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
	"github.com/tether-io/tether/test/testenv"
)

// With another --cluster-namespace, the Secrets, ServiceAccounts and
// permissions are in that namespace; unregister removes what the agent
// created in the member (and so revokes the tokens) and on the hub.
func TestUnregisterRemovesReportedCredentials(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	const cluster, clusterNS = "creds-unreg", "creds-unreg-ns"
	deleteClusterAtEnd(t, cluster)
	kubeconfig, err := env.Hub.AgentKubeconfig(ctx, cluster, env.Hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := objects.NewClient(env.Hub.Config)
	if err != nil {
		t.Fatal(err)
	}
	access := hub.ClusterAccess{Cluster: cluster, ClusterNamespace: clusterNS} // as register --cluster-namespace grants
	if err := objs.Apply(ctx, append(access.SharedNamespaces(), access.Objects()...)...); err != nil {
		t.Fatal(err)
	}
	a := testenv.StartAgent(t, env, testenv.AgentOptions{Cluster: cluster, HubKubeconfig: kubeconfig,
		Args: []string{"--cluster-namespace=" + clusterNS, "--report-secrets=KubeCredentials,KubeImpersonator"}})
	got := waitReported(t, clusterNS, cluster)
	assertWorks(t, cluster, got)
	a.Stop()

	opts := register.NewUnregisterOptions()
	opts.Cluster, opts.ClusterNamespace = cluster, clusterNS
	var out bytes.Buffer
	if err := register.Unregister(ctx, register.UnregisterConfig{Options: opts, Member: env.Members[0].Config, Hub: env.Hub.Config, Out: &out}); err != nil {
		t.Fatalf("unregister: %v\n%s", err, out.String())
	}
	m := memberKube(t)
	testenv.Eventually(t, 60*time.Second, "the member objects of the credentials gone", func() (bool, error) {
		for what, get := range map[string]func() error{
			"Namespace " + clusterNS: func() error { _, err := m.CoreV1().Namespaces().Get(ctx, clusterNS, metav1.GetOptions{}); return err },
			"ServiceAccount " + credentials.ServiceAccountName(cluster): func() error {
				_, err := m.CoreV1().ServiceAccounts(clusterNS).Get(ctx, credentials.ServiceAccountName(cluster), metav1.GetOptions{})
				return err
			},
			"ServiceAccount " + credentials.ImpersonatorServiceAccount: func() error {
				_, err := m.CoreV1().ServiceAccounts(clusterNS).Get(ctx, credentials.ImpersonatorServiceAccount, metav1.GetOptions{})
				return err
			},
			"ClusterRole": func() error {
				_, err := m.RbacV1().ClusterRoles().Get(ctx, credentials.ClusterRoleName(cluster), metav1.GetOptions{})
				return err
			},
			"ClusterRoleBinding": func() error {
				_, err := m.RbacV1().ClusterRoleBindings().Get(ctx, credentials.ClusterRoleName(cluster), metav1.GetOptions{})
				return err
			},
		} {
			if err := get(); !apierrors.IsNotFound(err) {
				return false, fmt.Errorf("%s: %v", what, err)
			}
		}
		return true, nil
	})
	for _, name := range []string{cluster, cluster + "-impersonator"} {
		if _, err := secretIn(ctx, t, clusterNS, name); !apierrors.IsNotFound(err) {
			t.Errorf("hub Secret %s/%s after unregister: %v", clusterNS, name, err)
		}
	}
	// The apiserver caches a token's authentication for 10 s.
	testenv.Eventually(t, 60*time.Second, "the reported token refused once its ServiceAccount is gone", func() (bool, error) {
		user, err := whoAmI(ctx, asToken(t, got.endpoint, got.ca, got.token))
		if apierrors.IsUnauthorized(err) {
			return true, nil
		}
		return false, fmt.Errorf("authenticated as %q: %v", user, err)
	})
}
