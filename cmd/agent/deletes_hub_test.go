package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/test/testenv"
)

// TestDeletesConfirmOnHub: 'get clusters' shows a cluster's held deletes,
// 'deletes confirm' sets the confirmation annotation on the real hub, and
// its errors name the cluster or the flag and say what to do.
func TestDeletesConfirmOnHub(t *testing.T) {
	env := testenv.Require(t)
	ctx := t.Context()
	hub := versioned.NewForConfigOrDie(env.Hub.Config)
	const message = "The member deletes of 40 Works are held: run 'tether-agent deletes confirm held1'"
	createCluster(t, ctx, hub, "held1", clusterv1alpha1.ClusterStatus{Conditions: []metav1.Condition{
		readyCondition(metav1.ConditionTrue, clusterv1alpha1.ReasonClusterReady),
		{Type: clusterv1alpha1.ClusterConditionDeletesHeld, Status: metav1.ConditionTrue, Reason: clusterv1alpha1.ReasonBulkDeletionHeld,
			Message: message, LastTransitionTime: metav1.Now()},
	}})
	createCluster(t, ctx, hub, "calm1", clusterv1alpha1.ClusterStatus{Conditions: []metav1.Condition{
		readyCondition(metav1.ConditionTrue, clusterv1alpha1.ReasonClusterReady),
		{Type: clusterv1alpha1.ClusterConditionDeletesHeld, Status: metav1.ConditionFalse, Reason: clusterv1alpha1.ReasonNoDeletesHeld,
			Message: "No member deletes are held.", LastTransitionTime: metav1.Now()},
	}})

	out := runTetherAgent(t, "get", "clusters", "held1", "calm1", "--kubeconfig", env.Hub.Kubeconfig)
	if !strings.Contains(out, "\nDeletes held on held1: "+message+"\n") || strings.Contains(out, "held on calm1") {
		t.Errorf("get clusters does not show the held deletes of held1 (only):\n%s", out)
	}

	before := time.Now().Add(-time.Second)
	out = runTetherAgent(t, "deletes", "confirm", "held1", "--kubeconfig", env.Hub.Kubeconfig)
	if !strings.Contains(out, "It reported: "+message) {
		t.Errorf("deletes confirm printed:\n%s", out)
	}
	c, err := hub.ClusterV1alpha1().Clusters().Get(ctx, "held1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339Nano, c.Annotations[clusterv1alpha1.ConfirmDeletesAnnotation])
	if err != nil || at.Before(before) || at.After(time.Now().Add(time.Second)) {
		t.Errorf("annotation %s=%q (%v), want the current time", clusterv1alpha1.ConfirmDeletesAnnotation,
			c.Annotations[clusterv1alpha1.ConfirmDeletesAnnotation], err)
	}

	out = runTetherAgent(t, "deletes", "confirm", "calm1", "--kubeconfig", env.Hub.Kubeconfig)
	if !strings.Contains(out, "releases nothing now") {
		t.Errorf("confirming a cluster without held deletes printed:\n%s", out)
	}

	err = runTetherAgentErr(t, "deletes", "confirm", "nosuch", "--kubeconfig", env.Hub.Kubeconfig)
	if err == nil || !strings.Contains(err.Error(), `cluster "nosuch" is not registered`) || !strings.Contains(err.Error(), "tether-agent get clusters") {
		t.Errorf("confirming an unknown cluster: %v", err)
	}
	nobody, err := env.Hub.IdentityKubeconfig("tether-test:nobody")
	if err != nil {
		t.Fatal(err)
	}
	err = runTetherAgentErr(t, "deletes", "confirm", "held1", "--kubeconfig", nobody)
	if err == nil || !strings.Contains(err.Error(), "administrator's kubeconfig (--kubeconfig, --context)") {
		t.Errorf("confirming without the right to: %v", err)
	}
	err = runTetherAgentErr(t, "deletes", "confirm", "--kubeconfig", env.Hub.Kubeconfig)
	if err == nil || !strings.Contains(err.Error(), "the name of the cluster") {
		t.Errorf("confirming without a cluster name: %v", err)
	}
}

// runTetherAgentErr runs the CLI in-process and returns its error.
func runTetherAgentErr(t *testing.T, args ...string) error {
	t.Helper()
	root := newRootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	return root.ExecuteContext(t.Context())
}
