package main

import (
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/tether-io/tether/pkg/register/hub"
)

func newTokenCommand() *cobra.Command {
	var kc kubeconfigFlags
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Manage the bootstrap tokens members register with (run against the hub)",
	}
	kc.addFlags(cmd.PersistentFlags(), "hub (an administrator's)")
	cmd.AddCommand(newTokenCreateCommand(&kc), newTokenListCommand(&kc), newTokenDeleteCommand(&kc))
	withAliases(cmd, map[string]string{"karmada-context": "context"})
	return cmd
}

func hubClient(kc *kubeconfigFlags) (*rest.Config, kubernetes.Interface, error) {
	cfg, _, err := kc.load()
	if err != nil {
		return nil, nil, err
	}
	cs, err := kubernetes.NewForConfig(cfg)
	return cfg, cs, err
}

func newTokenCreateCommand(kc *kubeconfigFlags) *cobra.Command {
	opts := hub.TokenOptions{TTL: 24 * time.Hour, Usages: []string{"signing", "authentication"}, Groups: []string{hub.DefaultTokenGroup}}
	var printCommand, anyCluster bool
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a bootstrap token; with --print-register-command print the command a member runs to join",
		Long: `Create creates a bootstrap token (kubeadm's format) on the hub.

With --cluster-name the token is bound to that cluster: Tether's approver issues
only that cluster's identity for it. --print-register-command binds the token by
default, so it needs --cluster-name, or --any-cluster for one token that registers
a fleet. An unbound token can register any cluster name while it lives. Either
way Tether's approver refuses a bootstrap request for a cluster whose agent is
alive (its Lease is fresh). A Karmada control plane's own approver ignores the
binding.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			if err := validateTokenBinding(opts, printCommand, anyCluster); err != nil {
				return err
			}
			if err := opts.Validate(); err != nil {
				return err
			}
			cfg, cs, err := hubClient(kc)
			if err != nil {
				return err
			}
			token, err := hub.CreateToken(ctx, cs, opts)
			if err != nil {
				return err
			}
			if opts.Cluster == "" {
				id, _, _ := strings.Cut(token, ".")
				fmt.Fprintf(cmd.ErrOrStderr(), "Warning: bootstrap token %s is not bound to a cluster: until it expires it can register any cluster name, "+
					"and re-register any cluster it registered whose agent is not running. Bind a token with --cluster-name.\n", id)
			}
			if !printCommand {
				fmt.Fprintln(cmd.OutOrStdout(), token)
				return nil
			}
			caData, err := caBundle(cfg)
			if err != nil {
				return err
			}
			if slices.Contains(opts.Usages, "signing") {
				id, _, _ := strings.Cut(token, ".")
				if err := hub.WaitSigned(ctx, cs, id, 30*time.Second); err != nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "Warning: %v; register waits for the signature\n", err)
				}
			}
			line, err := hub.RegisterCommand("tether-agent", cfg.Host, token, caData, opts.Cluster)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), line)
			return nil
		},
	}
	fs := cmd.Flags()
	fs.DurationVar(&opts.TTL, "ttl", opts.TTL, "Lifetime of the token; 0 never expires.")
	fs.StringVar(&opts.Description, "description", "", "Human-readable description of the token.")
	fs.StringSliceVar(&opts.Usages, "usages", opts.Usages, "Usages of the token.")
	fs.StringSliceVar(&opts.Groups, "groups", opts.Groups, "Extra groups the token authenticates as.")
	fs.StringVar(&opts.Cluster, "cluster-name", "", "Bind the token to this cluster name: Tether's approver issues only that cluster's identity for it.")
	fs.BoolVar(&printCommand, "print-register-command", false, "Print the full 'tether-agent register' command instead of the token alone; needs --cluster-name or --any-cluster.")
	fs.BoolVar(&anyCluster, "any-cluster", false, "Do not bind the token to a cluster: one token registers any number of clusters (for --print-register-command, which binds by default).")
	return cmd
}

// validateTokenBinding: --print-register-command binds the token to the
// cluster it prints the command for, unless --any-cluster opts out.
func validateTokenBinding(opts hub.TokenOptions, printCommand, anyCluster bool) error {
	switch {
	case anyCluster && opts.Cluster != "":
		return fmt.Errorf("--any-cluster and --cluster-name=%s contradict each other: give one of them", opts.Cluster)
	case printCommand && !anyCluster && opts.Cluster == "":
		return fmt.Errorf("--print-register-command binds the token to one cluster: give --cluster-name <the member's name on the hub>, " +
			"or --any-cluster for a token that may register any cluster")
	}
	return nil
}

// caBundle is the hub CA of the kubeconfig, inline or from its file.
func caBundle(cfg *rest.Config) ([]byte, error) {
	if err := rest.LoadTLSFiles(cfg); err != nil {
		return nil, fmt.Errorf("read the hub CA named by the kubeconfig: %w", err)
	}
	if len(cfg.CAData) == 0 {
		return nil, fmt.Errorf("the hub kubeconfig has no certificate-authority data: the register command pins the hub's CA, so use a kubeconfig that names it")
	}
	return cfg.CAData, nil
}

func newTokenListCommand(kc *kubeconfigFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the bootstrap tokens (their IDs; secrets are never printed)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			_, cs, err := hubClient(kc)
			if err != nil {
				return err
			}
			tokens, err := hub.ListTokens(ctx, cs)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tTTL\tEXPIRES\tUSAGES\tCLUSTER\tDESCRIPTION\tEXTRA GROUPS")
			for _, t := range tokens {
				ttl, expires := "<forever>", "<never>"
				if t.Expires != nil {
					ttl, expires = time.Until(*t.Expires).Round(time.Second).String(), t.Expires.Format(time.RFC3339)
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, ttl, expires, strings.Join(t.Usages, ","), dash(t.Cluster), dash(t.Description), strings.Join(t.Groups, ","))
			}
			return w.Flush()
		},
	}
}

func dash(s string) string {
	if s == "" {
		return "<none>"
	}
	return s
}

func newTokenDeleteCommand(kc *kubeconfigFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <token ID or token>...",
		Short: "Delete bootstrap tokens",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			_, cs, err := hubClient(kc)
			if err != nil {
				return err
			}
			for _, a := range args {
				id, err := hub.DeleteToken(ctx, cs, a)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "bootstrap token %s deleted\n", id)
			}
			return nil
		},
	}
}
