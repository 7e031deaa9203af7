package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// clusterView is one row of 'get clusters', and its -o yaml|json item.
type clusterView struct {
	Name              string                          `json:"name"`
	KubernetesVersion string                          `json:"kubernetesVersion,omitempty"`
	SyncMode          clusterv1alpha1.ClusterSyncMode `json:"syncMode"`
	// Ready is the status of the Ready condition; Unknown when there is none.
	Ready             metav1.ConditionStatus       `json:"ready"`
	ReadyReason       string                       `json:"readyReason,omitempty"`
	Nodes             *clusterv1alpha1.NodeSummary `json:"nodes,omitempty"`
	CreationTimestamp metav1.Time                  `json:"creationTimestamp"`
	APIEndpoint       string                       `json:"apiEndpoint,omitempty"`
	Provider          string                       `json:"provider,omitempty"`
	Region            string                       `json:"region,omitempty"`
	Zones             []string                     `json:"zones,omitempty"`
	// DeletesHeld is the message of the DeletesHeld condition while it is
	// True: the agent holds member deletes until an operator confirms.
	DeletesHeld string `json:"deletesHeld,omitempty"`
}

func newGetClustersCommand(o *getOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "clusters [NAME...]",
		Aliases: []string{"cluster"},
		Short:   "List the member clusters registered on the hub",
		Long: `Clusters lists the hub's Cluster objects with Karmada's printer columns
(NAME, VERSION, MODE, READY, AGE) and NODES, ready of total; -o wide adds
the Ready condition's REASON, the API server ENDPOINT, PROVIDER, REGION and ZONES.
Name clusters to
show only those. A cluster whose agent holds member deletes (its DeletesHeld
condition is True) gets a line under the table saying how many and how to
release them ('tether-agent deletes confirm').`,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			client, host, err := o.client()
			if err != nil {
				return err
			}
			list, err := client.ClusterV1alpha1().Clusters().List(ctx, metav1.ListOptions{})
			if err != nil {
				return listError(err, "clusters.cluster.karmada.io", host)
			}
			views, err := clusterViews(list.Items, args)
			if err != nil {
				return err
			}
			if len(views) == 0 && o.tableOutput() {
				fmt.Fprintf(cmd.ErrOrStderr(), "No clusters are registered on the hub at %s.\n", host)
				return nil
			}
			return o.print(cmd.OutOrStdout(), views, func(w *tabwriter.Writer, wide bool) { writeClusterTable(w, views, o.now(), wide) })
		},
	}
}

// clusterViews summarises the clusters, sorted by name, keeping only those
// named (all when none is); naming a cluster that does not exist is an error.
func clusterViews(clusters []clusterv1alpha1.Cluster, names []string) ([]clusterView, error) {
	views := []clusterView{}
	var all []string
	for _, c := range clusters {
		all = append(all, c.Name)
		if len(names) > 0 && !slices.Contains(names, c.Name) {
			continue
		}
		v := clusterView{Name: c.Name, KubernetesVersion: c.Status.KubernetesVersion, SyncMode: c.Spec.SyncMode,
			Ready: metav1.ConditionUnknown, Nodes: c.Status.NodeSummary, CreationTimestamp: c.CreationTimestamp,
			APIEndpoint: c.Spec.APIEndpoint, Provider: c.Spec.Provider, Region: c.Spec.Region, Zones: c.Spec.Zones}
		if ready := meta.FindStatusCondition(c.Status.Conditions, clusterv1alpha1.ClusterConditionReady); ready != nil {
			v.Ready, v.ReadyReason = ready.Status, ready.Reason
		}
		if held := meta.FindStatusCondition(c.Status.Conditions, clusterv1alpha1.ClusterConditionDeletesHeld); held != nil && held.Status == metav1.ConditionTrue {
			v.DeletesHeld = held.Message
		}
		views = append(views, v)
	}
	for _, n := range names {
		if !slices.Contains(all, n) {
			return nil, fmt.Errorf("cluster %q is not registered on the hub (registered: %s); register it with 'tether-agent register'", n, strings.Join(all, ", "))
		}
	}
	slices.SortFunc(views, func(a, b clusterView) int { return strings.Compare(a.Name, b.Name) })
	return views, nil
}

func writeClusterTable(w *tabwriter.Writer, views []clusterView, now time.Time, wide bool) {
	header := "NAME\tVERSION\tMODE\tREADY\tNODES\tAGE"
	if wide {
		header += "\tREASON\tENDPOINT\tPROVIDER\tREGION\tZONES"
	}
	fmt.Fprintln(w, header)
	for _, v := range views {
		nodes := "-"
		if v.Nodes != nil {
			nodes = fmt.Sprintf("%d/%d", v.Nodes.ReadyNum, v.Nodes.TotalNum)
		}
		row := fmt.Sprintf("%s\t%s\t%s\t%s\t%s\t%s", v.Name, orDash(v.KubernetesVersion), orDash(string(v.SyncMode)),
			v.Ready, nodes, duration.HumanDuration(now.Sub(v.CreationTimestamp.Time)))
		if wide {
			row += fmt.Sprintf("\t%s\t%s\t%s\t%s\t%s", orDash(v.ReadyReason), orDash(v.APIEndpoint), orDash(v.Provider),
				orDash(v.Region), orDash(strings.Join(v.Zones, ",")))
		}
		fmt.Fprintln(w, row)
	}
	for _, v := range views {
		if v.DeletesHeld != "" {
			fmt.Fprintf(w, "\nDeletes held on %s: %s\n", v.Name, v.DeletesHeld)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
