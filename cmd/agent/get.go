package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/yaml"

	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
)

// getOptions are the flags shared by 'get clusters' and 'get works'.
type getOptions struct {
	hub    kubeconfigFlags
	output string
	// now is the clock AGE is measured with.
	now func() time.Time
	// connect builds the hub client from the flags; tests replace it.
	connect func() (client versioned.Interface, host string, err error)
}

func newGetCommand() *cobra.Command {
	o := &getOptions{now: time.Now}
	o.connect = o.hubClient
	return getCommand(o)
}

// getCommand builds 'get' on o, whose clock and connection tests choose.
func getCommand(o *getOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "get clusters|works",
		Short: "Show a hub's member clusters, and the status of Works aggregated across clusters",
		Long: `Get reads a hub the way Karmada's control plane does, for hubs that have none
(a plain Kubernetes cluster prepared with 'tether-agent hub init'):

  clusters  the registered member clusters: version, sync mode, readiness, nodes
  works     one line per resource carried by the Works of all karmada-es-*
            namespaces, with its status aggregated across clusters exactly as
            Karmada's control plane aggregates it (Deployment replicas summed...)

Use the hub's kubeconfig, with the right to list Clusters and Works in every
namespace (an administrator's).`,
		Example: `  tether-agent get clusters --kubeconfig hub.kubeconfig
  tether-agent get works -o yaml`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%s cannot show %q: it shows clusters or works", cmd.CommandPath(), args[0])
			}
			return fmt.Errorf("%s needs what to get: clusters or works", cmd.CommandPath())
		},
	}
	o.hub.addFlags(cmd.PersistentFlags(), "hub")
	cmd.PersistentFlags().StringVarP(&o.output, "output", "o", "", "Output format: wide (a table with more columns), yaml or json (default: a table).")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"wide", "yaml", "json"}, cobra.ShellCompDirectiveNoFileComp))
	cmd.AddCommand(newGetClustersCommand(o), newGetWorksCommand(o))
	return cmd
}

// client validates the flags and connects to the hub.
func (o *getOptions) client() (versioned.Interface, string, error) {
	if o.output != "" && o.output != "wide" && o.output != "yaml" && o.output != "json" {
		return nil, "", fmt.Errorf("--output %q is not supported: use wide, yaml or json, or leave it out for a table", o.output)
	}
	return o.connect()
}

// hubClient builds the Karmada API client of the hub named by --kubeconfig
// and --context.
func (o *getOptions) hubClient() (versioned.Interface, string, error) {
	cfg, _, err := o.hub.load()
	if err != nil {
		return nil, "", fmt.Errorf("%w (give the hub's kubeconfig with --kubeconfig or KUBECONFIG)", err)
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	client, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, "", fmt.Errorf("--%s: %w", o.hub.pathFlag, err)
	}
	return client, cfg.Host, nil
}

// listError explains why listing resource (e.g. "works.work.karmada.io")
// on the hub failed, and what to do about it.
func listError(err error, resource, host string) error {
	switch {
	case apierrors.IsNotFound(err):
		return fmt.Errorf("the hub at %s does not serve %s, so it is not prepared as a hub: run 'tether-agent hub init' against it with an administrator's kubeconfig", host, resource)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("the hub at %s does not let this user list %s in all namespaces: use an administrator's kubeconfig (--kubeconfig, --context): %w", host, resource, err)
	case apierrors.IsUnauthorized(err):
		return fmt.Errorf("the hub at %s rejected the credentials of this kubeconfig: check --kubeconfig and --context: %w", host, err)
	}
	return fmt.Errorf("list %s on the hub at %s: %w (check --kubeconfig and --context)", resource, host, err)
}

// tableOutput reports whether the output is a table (wide or not).
func (o *getOptions) tableOutput() bool { return o.output == "" || o.output == "wide" }

// print writes v as YAML or JSON when -o asks for it, else as a table
// (wide with -o wide) whose columns tabwriter aligns.
func (o *getOptions) print(w io.Writer, v any, table func(w *tabwriter.Writer, wide bool)) error {
	var out []byte
	var err error
	switch o.output {
	case "json":
		out, err = json.MarshalIndent(v, "", "  ")
		out = append(out, '\n')
	case "yaml":
		out, err = yaml.Marshal(v)
	default:
		tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
		table(tw, o.output == "wide")
		return tw.Flush()
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}
