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
	"k8s.io/apimachinery/pkg/runtime"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
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
does at the edge, and prints only the rendered manifests, in input order.

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
	in := &renderInput{}
	for _, f := range o.files {
		if err := in.read(f, stdin); err != nil {
			return err
		}
	}
	cluster, err := pickCluster(in.clusters, o.cluster)
	if err != nil {
		return err
	}
	results := make([]*override.Result, len(in.manifests))
	var errs []error
	for i, m := range in.manifests {
		if results[i], err = override.Render(m, cluster, in.policies); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if o.explain {
		writeExplain(stderr, cluster.Name, in.manifests, results)
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

// renderInput is everything read from the -f files.
type renderInput struct {
	clusters  []*clusterv1alpha1.Cluster
	policies  override.Policies
	manifests []*unstructured.Unstructured
}

// read decodes every document of one file ("-" is stdin).
func (in *renderInput) read(file string, stdin io.Reader) error {
	r, name := stdin, "stdin"
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return err
		}
		defer f.Close()
		r, name = f, file
	}
	dec := utilyaml.NewYAMLOrJSONDecoder(r, 4096)
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		if err := in.add(u); err != nil {
			return fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
	}
}

// add sorts one object into the Cluster, the policies or the manifests;
// a List contributes its items.
func (in *renderInput) add(u *unstructured.Unstructured) error {
	if u.IsList() {
		list, err := u.ToList()
		if err != nil {
			return err
		}
		for i := range list.Items {
			if err := in.add(&list.Items[i]); err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
		}
		return nil
	}
	gvk := u.GroupVersionKind()
	switch {
	case gvk.GroupVersion() == clusterv1alpha1.SchemeGroupVersion && gvk.Kind == "Cluster":
		c := &clusterv1alpha1.Cluster{}
		in.clusters = append(in.clusters, c)
		return fromUnstructured(u, c)
	case gvk.GroupVersion() == policyv1alpha1.SchemeGroupVersion && gvk.Kind == override.KindClusterOverridePolicy:
		p := &policyv1alpha1.ClusterOverridePolicy{}
		in.policies.ClusterOverridePolicies = append(in.policies.ClusterOverridePolicies, p)
		return fromUnstructured(u, p)
	case gvk.GroupVersion() == policyv1alpha1.SchemeGroupVersion && gvk.Kind == override.KindOverridePolicy:
		if u.GetNamespace() == "" {
			return fmt.Errorf("OverridePolicy %s has no metadata.namespace", u.GetName())
		}
		p := &policyv1alpha1.OverridePolicy{}
		in.policies.OverridePolicies = append(in.policies.OverridePolicies, p)
		return fromUnstructured(u, p)
	default:
		in.manifests = append(in.manifests, u)
		return nil
	}
}

// fromUnstructured converts strictly: an unknown field (a misspelt
// overrider, say) is an error rather than silently ignored.
func fromUnstructured(u *unstructured.Unstructured, into any) error {
	if err := runtime.DefaultUnstructuredConverter.FromUnstructuredWithValidation(u.Object, into, true); err != nil {
		return fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return nil
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
