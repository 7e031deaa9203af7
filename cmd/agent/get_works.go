package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/tether-io/tether/pkg/aggregate"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
)

func newGetWorksCommand(o *getOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "works",
		Aliases: []string{"work", "wk"},
		Short:   "Show every resource the hub's Works carry, with its status aggregated across clusters",
		Long: `Works lists the Works of every karmada-es-<cluster> namespace, groups their
manifests by resource (apiVersion, kind, namespace, name) and aggregates what
each cluster reported the way Karmada's control plane does: a cluster counts as
applied when its Work's Applied condition is True, Deployment (and ReplicaSet,
StatefulSet, DaemonSet, HPA, PDB) counters are summed, Job, Pod and volume
phases combined. The table shows, per resource:

  KIND      the manifest's kind
  APPLIED   clusters that applied their Work, of all
  then the resource's line: namespace/name, ready of desired replicas ("2/2
  ready"; for kinds without replicas, healthy of all clusters, "1/2 healthy"),
  and in parentheses each cluster's ready replicas and health, or "not applied":

  KIND         APPLIED   RESOURCE  READY  (CLUSTERS)
  Deployment   2/2       default/nginx  2/2 ready  (member1 1/1 Healthy, member2 1/1 Healthy)

-o yaml|json prints the aggregate: per resource the summed status, and per
cluster the Work, applied, appliedMessage, health and reported status.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			client, host, err := o.client()
			if err != nil {
				return err
			}
			resources, err := hubResources(ctx, client, host)
			if resources == nil {
				return err
			}
			if err != nil { // some Works could not be read: show the rest
				for _, line := range strings.Split(err.Error(), "\n") {
					fmt.Fprintln(cmd.ErrOrStderr(), "Warning:", line)
				}
			}
			if len(resources) == 0 && o.output == "" {
				fmt.Fprintf(cmd.ErrOrStderr(), "No Works in any %s* namespace of the hub at %s.\n", workv1alpha1.ExecutionSpacePrefix, host)
				return nil
			}
			return o.print(cmd.OutOrStdout(), resources, func(w *tabwriter.Writer) { writeWorkTable(w, resources) })
		},
	}
}

// hubResources lists the Works of every namespace of the hub and aggregates
// them by resource (see aggregate.Works); r.Line() is the one-line summary
// of each. When the list fails the resources are nil; when some Works could
// not be read, the resources come with an error that names those Works.
func hubResources(ctx context.Context, client versioned.Interface, host string) ([]aggregate.Resource, error) {
	list, err := client.WorkV1alpha1().Works(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, listError(err, "works.work.karmada.io", host)
	}
	return aggregate.Works(list.Items)
}

// writeWorkTable aligns KIND and APPLIED and ends each row with the
// resource's Line, verbatim whatever the other rows are.
func writeWorkTable(w *tabwriter.Writer, resources []aggregate.Resource) {
	fmt.Fprintln(w, "KIND\tAPPLIED\tRESOURCE  READY  (CLUSTERS)")
	for _, r := range resources {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.Kind, r.AppliedSummary(), r.Line())
	}
}
