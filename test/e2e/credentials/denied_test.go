package credentials

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/test/testenv"
)

// An agent asked to report credentials whose hub identity may not write
// the Secrets says so in HubPermissionsMissing, with the commands that
// grant it, sets no reference, and keeps running.
func TestMissingSecretPermissionsAreACondition(t *testing.T) {
	env := testenv.Require(t)
	ctx := context.Background()
	const cluster = "creds-denied"
	deleteClusterAtEnd(t, cluster)
	kubeconfig, err := env.Hub.AgentKubeconfig(ctx, cluster, env.Hub.URL)
	if err != nil {
		t.Fatal(err)
	}
	// Take the Secret rules out of the agent's Role, keeping the Lease's.
	roles := hubKube(t).RbacV1().Roles(ns)
	role, err := roles.Get(ctx, hub.AgentRoleName(cluster)+"-secret", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var kept []rbacv1.PolicyRule
	for _, r := range role.Rules {
		if len(r.Resources) != 1 || r.Resources[0] != "secrets" {
			kept = append(kept, r)
		}
	}
	if len(kept) == len(role.Rules) {
		t.Fatalf("the agent's Role %s has no Secret rule to take out", role.Name)
	}
	role.Rules = kept
	if _, err := roles.Update(ctx, role, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}

	a := testenv.StartAgent(t, env, testenv.AgentOptions{Cluster: cluster, HubKubeconfig: kubeconfig,
		Args: []string{"--report-secrets=KubeCredentials,KubeImpersonator"}})
	testenv.Eventually(t, 90*time.Second, "HubPermissionsMissing naming the credentials Secrets", func() (bool, error) {
		c, err := hubKarmada(t).ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		cond := meta.FindStatusCondition(c.Status.Conditions, clusterv1alpha1.ClusterConditionHubPermissionsMissing)
		if cond == nil || cond.Status != metav1.ConditionTrue {
			return false, fmt.Errorf("condition %+v", cond)
		}
		for _, want := range []string{"--report-secrets=KubeCredentials", "--report-secrets=KubeImpersonator",
			"kubectl create role tether:agent:" + cluster + ":credentials -n " + ns + " --verb=get,patch --resource=secrets --resource-name=" + cluster + " ",
			"--resource-name=" + cluster + "-impersonator"} {
			if !strings.Contains(cond.Message, want) {
				return false, fmt.Errorf("the message lacks %q: %s", want, cond.Message)
			}
		}
		if c.Spec.SecretRef != nil || c.Spec.ImpersonatorSecretRef != nil {
			t.Errorf("references to Secrets the agent may not write: %+v %+v", c.Spec.SecretRef, c.Spec.ImpersonatorSecretRef)
		}
		return true, nil
	})
	a.WaitReady(t, 30*time.Second)
	if _, err := secret(ctx, t, cluster); !apierrors.IsNotFound(err) {
		t.Errorf("hub Secret %s: %v, want NotFound", cluster, err)
	}
	if code, done := a.Exited(); done {
		t.Errorf("the agent exited (%d)", code)
	}
}
