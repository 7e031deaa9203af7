package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/override"
)

// renderOptions are the flags of tether-agent render.
type renderOptions struct {
	files   []string
	cluster string
	output  string
	explain bool
}

func newRenderCommand() *cobra.Command {
	o := &renderOptions{}
	cmd := &cobra.Command{
		Use:   "render -f FILE [-f FILE]... [--cluster NAME] [-o yaml|json] [--explain]",
		Short: "Preview offline how override policies render manifests for a member cluster",
		Long: `Render reads OverridePolicies, ClusterOverridePolicies, the member's Cluster
object and manifests from YAML or JSON files (multi-document, "-" for stdin,
Lists expanded), applies the policies to each manifest exactly as the agent
does at the edge, and prints only the rendered manifests, in input order:
each exactly as the agent applies it, with the annotations
policy.karmada.io/applied-cluster-overrides and applied-overrides that record
which overriders were applied (none when no policy applied).

--cluster NAME names the member: it stands in for the Cluster object when the
input has none, and picks one when the input has several. The Cluster's
labels, provider, region and zones feed the policies' targetCluster.

A policy that cannot be applied (a bad JSON pointer, remove with a value, an
unknown component, a tag that does not parse...) makes render fail with a
message naming the policy, rule, overrider and field; nothing is printed.`,
		Example: `  tether-agent render -f policies.yaml -f deployment.yaml --cluster edge-7
  kubectl get deploy web -o yaml | tether-agent render -f policies.yaml -f - --cluster edge-7 --explain`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringArrayVarP(&o.files, "filename", "f", nil, `file to read, "-" for stdin; repeatable`)
	cmd.Flags().StringVar(&o.cluster, "cluster", "", "name of the member cluster to render for")
	cmd.Flags().StringVarP(&o.output, "output", "o", "yaml", "output format: yaml or json")
	cmd.Flags().BoolVar(&o.explain, "explain", false, "print to stderr which policy, rule and overrider changed which path")
	return cmd
}

// run renders every manifest, and prints them only if all rendered.
func (o *renderOptions) run(stdin io.Reader, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	in := &override.Input{}
	for _, f := range o.files {
		if err := read(in, f, stdin); err != nil {
			return err
		}
	}
	cluster, err := pickCluster(in.Clusters, o.cluster)
	if err != nil {
		return err
	}
	results := make([]*override.Result, len(in.Manifests))
	var errs []error
	for i, m := range in.Manifests {
		if results[i], err = override.Render(m, cluster, in.Policies); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if o.explain {
		writeExplain(stderr, cluster.Name, in.Manifests, results)
	}
	return writeManifests(stdout, results, o.output)
}

func (o *renderOptions) validate() error {
	if len(o.files) == 0 {
		return errors.New("no input: give at least one -f FILE (- for stdin)")
	}
	if i := slices.Index(o.files, "-"); i >= 0 && slices.Contains(o.files[i+1:], "-") {
		return errors.New("-f - (stdin) can be given only once")
	}
	if o.output != "yaml" && o.output != "json" {
		return fmt.Errorf("--output %q is not supported: use yaml or json", o.output)
	}
	return nil
}

// read decodes every document of one file ("-" is stdin) into in.
func read(in *override.Input, file string, stdin io.Reader) error {
	if file == "-" {
		return in.Read(stdin, "stdin")
	}
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("-f %s: %w", file, err)
	}
	defer f.Close()
	return in.Read(f, file)
}

// pickCluster chooses the member: the only Cluster given, the one named
// by --cluster, or, when the input has none, a Cluster with just that name.
func pickCluster(clusters []*clusterv1alpha1.Cluster, name string) (*clusterv1alpha1.Cluster, error) {
	names := make([]string, len(clusters))
	for i, c := range clusters {
		names[i] = c.Name
	}
	switch {
	case name == "" && len(clusters) == 1:
		return clusters[0], nil
	case name == "" && len(clusters) == 0:
		return nil, errors.New("no Cluster in the input: add one, or name the member with --cluster NAME")
	case name == "":
		return nil, fmt.Errorf("the input has %d Clusters (%s): choose one with --cluster NAME", len(clusters), strings.Join(names, ", "))
	case len(clusters) == 0:
		c := &clusterv1alpha1.Cluster{}
		c.Name = name
		return c, nil
	}
	if i := slices.Index(names, name); i >= 0 {
		return clusters[i], nil
	}
	return nil, fmt.Errorf("--cluster %s: the input has no such Cluster (it has %s)", name, strings.Join(names, ", "))
}

// writeManifests prints the rendered manifests as YAML documents separated
// by "---", or as a stream of indented JSON objects.
func writeManifests(w io.Writer, results []*override.Result, format string) error {
	for i, res := range results {
		var out []byte
		var err error
		if format == "json" {
			out, err = json.MarshalIndent(res.Object.Object, "", "  ")
			out = append(out, '\n')
		} else {
			out, err = yaml.Marshal(res.Object.Object)
			if i > 0 {
				out = append([]byte("---\n"), out...)
			}
		}
		if err != nil {
			return fmt.Errorf("encoding %s %s: %w", res.Object.GetKind(), res.Object.GetName(), err)
		}
		if _, err := w.Write(out); err != nil {
			return err
		}
	}
	return nil
}

// writeExplain prints, per manifest, which policy, rule and overrider
// changed which path.
func writeExplain(w io.Writer, cluster string, manifests []*unstructured.Unstructured, results []*override.Result) {
	for i, m := range manifests {
		key := m.GetName()
		if ns := m.GetNamespace(); ns != "" {
			key = ns + "/" + key
		}
		fmt.Fprintf(w, "# %s %s on cluster %s\n", m.GetKind(), key, cluster)
		if len(results[i].Changes) == 0 {
			fmt.Fprintln(w, "  no change")
		}
		for _, c := range results[i].Changes {
			rule := fmt.Sprintf("rule %d", c.Rule)
			if c.Rule == override.DeprecatedRule {
				rule = "spec.overriders"
			}
			path := c.Path
			if c.SubPath != "" {
				path += "#" + c.SubPath
			}
			fmt.Fprintf(w, "  %s, %s, %s[%d]: %s %s\n", c.Policy, rule, c.Overrider, c.Index, c.Op, path)
		}
	}
}
