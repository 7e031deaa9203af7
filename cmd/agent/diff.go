package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/rest"

	"github.com/tether-io/tether/pkg/override"
)

// Exit codes of tether-agent diff, as flux diff and diff(1) use them.
const (
	diffNoChange = 0
	diffChanges  = 1
	diffError    = 2
)

// errChanges is diff's answer when something would change: exit code 1, no message.
var errChanges = &exitError{code: diffChanges, err: reported{errors.New("the member differs from what the agent would apply")}}

// diffOptions are the flags of tether-agent diff.
type diffOptions struct {
	member, hub kubeconfigFlags
	files       []string
	cluster     string
	renderMode  string
	// wrap, when set, wraps the client configurations (tests record the requests).
	wrap func(*rest.Config) *rest.Config
}

func newDiffCommand() *cobra.Command {
	return diffCommand(&diffOptions{})
}

// diffCommand builds 'diff' and 'diff work' on o.
func diffCommand(o *diffOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "diff -f FILE [-f FILE]...",
		Short: "Show what the agent would change in the member, without writing (exit 1 when something would change)",
		Long: `Diff shows, per object, what the agent would change in the member cluster:
it renders the manifests through the same override engine as the agent, applies
each one to the member as a server-side dry run (dryRun=All, field manager
tether, force, as the agent applies it), and prints a unified diff of the fields
Tether would own (before and after the apply), between the live object and the
dry-run result. A new object shows all added. Secret values are never printed:
a changed value shows as "*** (before)" / "*** (after)". Nothing is written:
the member sees only reads and dry runs, the hub only reads.

Input: 'diff work NAMESPACE/NAME' reads the Work from the hub (--karmada-kubeconfig)
and renders it exactly as the agent would: with the hub's OverridePolicies and
ClusterOverridePolicies and the Cluster object, unless the Work is one the hub
already rendered (--render-overrides, as the agent's flag). 'diff -f FILE' reads
manifests, policies and Clusters from files as 'tether-agent render' does; with
--karmada-kubeconfig the hub's policies (and its Cluster --cluster-name) are added.

The member is --kubeconfig: any identity that may read the objects and send
dry-run applies, the agent's included.

Exit codes: 0 nothing would change (and nothing is printed), 1 something would
change, 2 an error (a manifest that cannot be rendered or dry-run applied is
reported on stderr; the others are still diffed).`,
		Example: `  tether-agent diff work karmada-es-edge-7/web-deployment --karmada-kubeconfig hub.kubeconfig --kubeconfig member.kubeconfig
  tether-agent diff -f policies.yaml -f deployment.yaml --cluster-name edge-7 --kubeconfig member.kubeconfig`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(o.files) == 0 {
				return &exitError{code: diffError, err: errors.New("no input: give manifests with -f FILE (- for stdin), or a Work with 'diff work NAMESPACE/NAME'")}
			}
			return o.exit(o.run(cmd, nil))
		},
	}
	cmd.Flags().StringArrayVarP(&o.files, "filename", "f", nil, `file of manifests, policies and Clusters to read, "-" for stdin; repeatable`)
	fs := cmd.PersistentFlags()
	o.member.addFlags(fs, "member cluster")
	o.hub.addNamedFlags(fs, "karmada-kubeconfig", "karmada-context", "hub (the agent's --karmada-kubeconfig)")
	fs.StringVar(&o.cluster, "cluster-name", "", "Name of the member cluster on the hub (default for a Work: from its namespace karmada-es-<name>).")
	fs.StringVar(&o.renderMode, "render-overrides", string(override.ModeAuto), "When a Work is rendered with the hub's policies, as the agent's flag: Auto, Always or Never.")
	cmd.SetFlagErrorFunc(flagError)
	cmd.AddCommand(newDiffWorkCommand(o))
	return cmd
}

// newDiffWorkCommand is 'diff work NAMESPACE/NAME'.
func newDiffWorkCommand(o *diffOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "work NAMESPACE/NAME",
		Short: "Show what the agent would change in the member for a Work on the hub",
		Long: `Work reads the Work NAMESPACE/NAME from the hub (--karmada-kubeconfig), renders
it exactly as the agent would, and diffs each of its objects against the member
(--kubeconfig) with a server-side dry run; see 'tether-agent diff --help'.

Exit codes: 0 nothing would change (and nothing is printed), 1 something would
change, 2 an error.`,
		Example: `  tether-agent diff work karmada-es-edge-7/web-deployment --karmada-kubeconfig hub.kubeconfig --kubeconfig member.kubeconfig`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := exactArgs(1, "the Work as NAMESPACE/NAME")(cmd, args); err != nil {
				return &exitError{code: diffError, err: err}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ns, name, ok := strings.Cut(args[0], "/")
			if !ok || ns == "" || name == "" || strings.Contains(name, "/") {
				return &exitError{code: diffError, err: fmt.Errorf("%s: %q is not NAMESPACE/NAME (e.g. karmada-es-edge-7/web-deployment)", cmd.CommandPath(), args[0])}
			}
			return o.exit(o.run(cmd, &workName{namespace: ns, name: name}))
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}

// flagError gives a flag error diff's error exit code.
func flagError(cmd *cobra.Command, err error) error {
	return &exitError{code: diffError, err: fmt.Errorf("%w; see '%s --help'", err, cmd.CommandPath())}
}

// exit maps run's outcome to diff's exit codes.
func (o *diffOptions) exit(changed bool, err error) error {
	switch {
	case err != nil:
		return &exitError{code: diffError, err: err}
	case changed:
		return errChanges
	}
	return nil
}

// run diffs the Work (or, when work is nil, the files) and reports whether
// something would change.
func (o *diffOptions) run(cmd *cobra.Command, work *workName) (bool, error) {
	ctx, cancel := commandContext(cmd)
	defer cancel()
	mode, err := override.ParseMode(o.renderMode)
	if err != nil {
		return false, fmt.Errorf("--render-overrides: %w", err)
	}
	in, err := o.desired(ctx, cmd.InOrStdin(), cmd.ErrOrStderr(), work, mode)
	if err != nil {
		return false, err
	}
	m, err := o.memberClients()
	if err != nil {
		return false, err
	}
	return m.diffAll(ctx, in, cmd.OutOrStdout(), cmd.ErrOrStderr())
}

// config loads one kubeconfig and wraps it for tests.
func (o *diffOptions) config(k *kubeconfigFlags) (*rest.Config, error) {
	cfg, _, err := k.load()
	if err != nil {
		return nil, err
	}
	if o.wrap != nil {
		cfg = o.wrap(cfg)
	}
	return cfg, nil
}
