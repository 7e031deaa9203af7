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
  RESOURCE  namespace/name
  APPLIED   clusters that applied their Work, of all
  READY     ready of desired replicas ("2/2 ready"; for kinds without
            replicas, healthy of all clusters, "1/2 healthy")
  DRIFT     clusters whose agent found the object changed in the member:
            "1 drifted" (it differs now), "1 corrected" (repaired; the last
            episode is kept until the manifest changes), or "-"
  CLUSTERS  each cluster's ready replicas and health, or "not applied"

  KIND         RESOURCE        APPLIED   READY       DRIFT   CLUSTERS
  Deployment   default/nginx   2/2       2/2 ready   -       member1 1/1 Healthy, member2 1/1 Healthy

-o wide adds APIVERSION, WORKS (the Work of each cluster) and DRIFTED (the
drifted paths, JSON pointers into the manifest, per cluster).

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
			if len(resources) == 0 && o.tableOutput() {
				fmt.Fprintf(cmd.ErrOrStderr(), "No Works in any %s* namespace of the hub at %s.\n", workv1alpha1.ExecutionSpacePrefix, host)
				return nil
			}
			return o.print(cmd.OutOrStdout(), resources, func(w *tabwriter.Writer, wide bool) { writeWorkTable(w, resources, wide) })
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

// writeWorkTable writes one row per resource: KIND, RESOURCE
// (namespace/name), APPLIED (clusters that applied their Work, of all),
// READY (ready of desired replicas, or healthy of all clusters),
// DRIFT (clusters with the object drifted or corrected) and CLUSTERS (each
// cluster's part); wide adds APIVERSION, the Works and the drifted paths.
func writeWorkTable(w *tabwriter.Writer, resources []aggregate.Resource, wide bool) {
	header := "KIND\tRESOURCE\tAPPLIED\tREADY\tDRIFT\tCLUSTERS"
	if wide {
		header = "APIVERSION\t" + header + "\tWORKS\tDRIFTED"
	}
	fmt.Fprintln(w, header)
	for _, r := range resources {
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", r.Kind, r.Ref(), r.AppliedSummary(), r.Summary(), driftCell(r), r.ClusterSummary())
		if wide {
			works := make([]string, len(r.Clusters))
			for i, it := range r.Clusters {
				works[i] = workv1alpha1.ExecutionNamespace(it.ClusterName) + "/" + it.Work
			}
			row = r.APIVersion + "\t" + row + "\t" + strings.Join(works, ",") + "\t" + driftedPaths(r)
		}
		fmt.Fprintln(w, row)
	}
}
