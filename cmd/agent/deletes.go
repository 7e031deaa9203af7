package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
)

func newDeletesCommand() *cobra.Command {
	o := &getOptions{now: time.Now}
	o.connect = o.hubClient
	return deletesCommand(o)
}

// deletesCommand builds 'deletes' on o, whose clock and connection tests choose.
func deletesCommand(o *getOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deletes confirm CLUSTER",
		Short: "Release the member deletes an agent holds after finding Works deleted in bulk while it was away",
		Long: `When an agent comes back (a start, or a reconnect to the hub) and finds many of its
Works already being deleted on the hub, as Karmada does to the Works of a cluster it
considered failed, it holds their member deletes instead of removing everything at
once. The Cluster's DeletesHeld condition, 'tether-agent get clusters', a Warning
Event on each held Work and the metric tether_deletion_held_works show it.

  confirm  lets the held deletes proceed: it sets the annotation
           ` + clusterv1alpha1.ConfirmDeletesAnnotation + ` on the Cluster to the current time.

Without a confirmation they proceed after the agent's --held-delete-grace.
Use the hub's kubeconfig with the right to patch Clusters (an administrator's).`,
		Example: `  tether-agent deletes confirm member1 --kubeconfig hub.kubeconfig`,
		Args:    cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return fmt.Errorf("%s needs a verb: confirm CLUSTER", cmd.CommandPath())
		},
	}
	o.hub.addFlags(cmd.PersistentFlags(), "hub")
	cmd.AddCommand(&cobra.Command{
		Use:   "confirm CLUSTER",
		Short: "Let the member deletes held by CLUSTER's agent proceed",
		Args:  exactArgs(1, "the name of the cluster whose held deletes to release"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			client, host, err := o.connect()
			if err != nil {
				return err
			}
			return confirmDeletes(ctx, cmd.OutOrStdout(), client, host, args[0], o.now())
		},
	})
	return cmd
}

// confirmDeletes sets the confirmation annotation on the Cluster and says
// what it releases.
func confirmDeletes(ctx context.Context, out io.Writer, client versioned.Interface, host, name string, now time.Time) error {
	clusters := client.ClusterV1alpha1().Clusters()
	c, err := clusters.Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return clusterError(err, "read", name, host)
	}
	value := now.UTC().Format(time.RFC3339Nano)
	patch, err := json.Marshal(map[string]any{"metadata": map[string]any{"annotations": map[string]string{clusterv1alpha1.ConfirmDeletesAnnotation: value}}})
	if err != nil {
		return err
	}
	if _, err := clusters.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		return clusterError(err, "annotate", name, host)
	}
	fmt.Fprintf(out, "Cluster %s: set %s=%s.\n", name, clusterv1alpha1.ConfirmDeletesAnnotation, value)
	held := meta.FindStatusCondition(c.Status.Conditions, clusterv1alpha1.ClusterConditionDeletesHeld)
	if held == nil || held.Status != metav1.ConditionTrue {
		fmt.Fprintf(out, "Its agent reported no held deletes (condition %s is not True), so this releases nothing now; deletes held later need a new confirmation.\n",
			clusterv1alpha1.ClusterConditionDeletesHeld)
		return nil
	}
	fmt.Fprintf(out, "Its agent releases the deletes it holds when it sees the annotation. It reported: %s\n", held.Message)
	return nil
}

// clusterError explains why an action on the Cluster failed and what to do.
func clusterError(err error, action, name, host string) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("cluster %q is not registered on the hub at %s: check the name with 'tether-agent get clusters'", name, host)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("the hub at %s does not let this user %s Cluster %s: use an administrator's kubeconfig (--kubeconfig, --context): %w", host, action, name, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the hub at %s rejected the credentials of this kubeconfig: check --kubeconfig and --context: %w", host, err)
	}
	return fmt.Errorf("%s Cluster %s on the hub at %s: %w (check --kubeconfig and --context)", action, name, host, err)
}
