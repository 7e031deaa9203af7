package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/klog/v2"

	"github.com/tether-io/tether/pkg/register"
)

func newRegisterCommand() *cobra.Command {
	opts := register.NewOptions()
	var kc kubeconfigFlags
	cmd := &cobra.Command{
		Use:   "register <hub host:port>",
		Short: "Register this member cluster with a hub and deploy the agent",
		Long: `Register joins the member cluster the --kubeconfig points at to a hub, the way
'karmadactl register' does: preflight checks, discovery of the hub with a bootstrap
token and its CA pin, the agent's client certificate, the hub RBAC of the cluster,
and the agent Deployment in --namespace. It fails without leaving anything behind.

Get the command line from the hub: 'tether-agent token create --print-register-command'.`,
		Example: `  tether-agent register 10.0.0.58:6443 --token abcdef.0123456789abcdef \
      --discovery-token-ca-cert-hash sha256:<hex> --kubeconfig member.kubeconfig`,
		Args: exactArgs(1, "the hub apiserver's host:port"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			opts.Endpoint = args[0]
			if err := opts.Validate(); err != nil {
				return err
			}
			member, clusterName, err := kc.load()
			if err != nil {
				return err
			}
			out, done := progressOut(cmd.OutOrStdout(), opts.DryRun)
			defer done()
			return register.Register(ctx, register.Config{Options: opts, Member: member, DefaultClusterName: clusterName, Out: out})
		},
	}
	kc.addFlags(cmd.Flags(), "member cluster")
	opts.AddFlags(cmd.Flags())
	withAliases(cmd, map[string]string{"karmada-agent-image": "agent-image", "karmada-agent-replicas": "agent-replicas"})
	return cmd
}

// kubeconfigFlags are --kubeconfig and --context for one cluster.
type kubeconfigFlags struct {
	path, context string
	pathFlag      string
}

func (k *kubeconfigFlags) addFlags(fs *pflag.FlagSet, what string) {
	k.addNamedFlags(fs, "kubeconfig", "context", what)
}

func (k *kubeconfigFlags) addNamedFlags(fs *pflag.FlagSet, pathFlag, contextFlag, what string) {
	k.pathFlag = pathFlag
	fs.StringVar(&k.path, pathFlag, "", "Path of the kubeconfig of the "+what+" (default: $KUBECONFIG or ~/.kube/config).")
	fs.StringVar(&k.context, contextFlag, "", "Context of that kubeconfig (default: its current context).")
}

// load returns the client configuration and the cluster name of the
// selected context.
func (k *kubeconfigFlags) load() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.path
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: k.context})
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", k.describe(rules), err)
	}
	cfg, err := loader.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", k.describe(rules), err)
	}
	ctxName := k.context
	if ctxName == "" {
		ctxName = raw.CurrentContext
	}
	cluster := ""
	if c, ok := raw.Contexts[ctxName]; ok {
		cluster = c.Cluster
	}
	return cfg, cluster, nil
}

// describe names the kubeconfig file(s) load tried: the flag's, else those
// of $KUBECONFIG, else ~/.kube/config.
func (k *kubeconfigFlags) describe(rules *clientcmd.ClientConfigLoadingRules) string {
	switch {
	case k.path != "":
		return fmt.Sprintf("--%s %q", k.pathFlag, k.path)
	case os.Getenv(clientcmd.RecommendedConfigPathEnvVar) != "":
		return fmt.Sprintf("kubeconfig %q (from $KUBECONFIG; or give --%s)", strings.Join(rules.Precedence, string(filepath.ListSeparator)), k.pathFlag)
	}
	return fmt.Sprintf("kubeconfig %q (the default; or give --%s or $KUBECONFIG)", clientcmd.RecommendedHomeFile, k.pathFlag)
}

// commandContext is the command's context, cancelled on SIGINT/SIGTERM,
// with a klog logger.
func commandContext(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx, cancel := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	return klog.NewContext(ctx, klog.Background()), cancel
}

// exactArgs is cobra.ExactArgs with an error that says what is expected.
func exactArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s expects %s as its argument (got %d arguments); see '%s --help'", cmd.CommandPath(), what, len(args), cmd.CommandPath())
		}
		return nil
	}
}
