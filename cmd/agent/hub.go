package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
)

func newHubCommand() *cobra.Command {
	var kc kubeconfigFlags
	cmd := &cobra.Command{
		Use:   "hub",
		Short: "Prepare a Kubernetes cluster as a hub and approve agents on it (run with hub admin credentials)",
	}
	kc.addFlags(cmd.PersistentFlags(), "hub (an administrator's)")
	cmd.AddCommand(newHubInitCommand(&kc), newHubApproveCommand(&kc), newHubApproverCommand(&kc))
	return cmd
}

func newHubInitCommand(kc *kubeconfigFlags) *cobra.Command {
	var server string
	var dryRun bool
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Prepare a plain Kubernetes cluster as a hub (idempotent)",
		Long: `Init installs Tether's CRDs, the bootstrap pieces of a Karmada control plane
(kube-public/cluster-info with the hub's server and CA, anonymous read of it,
bootstrap tokens may create CSRs, the clusteragent/selfclusteragent approval RBAC),
the karmada-cluster and karmada-system namespaces, and kube-public/tether-hub-info,
which tells register that Tether's approver creates each cluster's RBAC.

The hub's kube-apiserver needs --enable-bootstrap-token-auth and its
kube-controller-manager the bootstrapsigner, tokencleaner and csrsigning controllers
(kubeadm clusters have them).

It refuses a Karmada control plane (one that serves Karmada's ResourceBindings, or
its Clusters through Karmada's aggregated apiserver): Karmada's own approver runs
there, and members register against it directly.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			cfg, _, err := kc.load()
			if err != nil {
				return err
			}
			caData, err := caBundle(cfg)
			if err != nil {
				return err
			}
			if server == "" {
				server = cfg.Host
			}
			initCfg := hub.InitConfig{Server: server, CAData: caData}
			out := cmd.OutOrStdout()
			if dryRun {
				objs, err := hub.InitObjects(initCfg)
				if err != nil {
					return err
				}
				cm, err := hub.ClusterInfo(server, caData)
				if err != nil {
					return err
				}
				raw, err := objects.YAML(append(objs, cm)...)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "# dry run: nothing was created. hub init would apply (cluster-info only when missing):\n%s", raw)
				return nil
			}
			created, err := hub.Init(ctx, cfg, initCfg)
			if err != nil {
				return err
			}
			if !created {
				fmt.Fprintln(out, "kube-public/cluster-info already exists: kept as is")
			}
			fmt.Fprintf(out, "hub %s is ready.\nNext:\n  tether-agent hub approver --kubeconfig <this kubeconfig>        # approves agents and creates their RBAC\n"+
				"  tether-agent token create --print-register-command --cluster-name <member name> --kubeconfig <this kubeconfig>\n", server)
			return nil
		},
	}
	cmd.Flags().StringVar(&server, "server", "", "Hub URL members use, written into cluster-info (default: the kubeconfig's server).")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "Print the objects and create nothing.")
	return cmd
}

// approverFlags are the approver's settings, shared by 'hub approve' and
// 'hub approver'.
type approverFlags struct {
	maxLifetime time.Duration
}

func (f *approverFlags) addFlags(fs *pflag.FlagSet) {
	f.maxLifetime = hub.DefaultMaxCertificateLifetime
	fs.DurationVar(&f.maxLifetime, "max-certificate-lifetime", f.maxLifetime,
		"Longest agent certificate approved: a request for longer, or one without spec.expirationSeconds, is denied.")
}

// newApprover builds Tether's approver; it refuses a Karmada control plane,
// whose own approver decides there.
func newApprover(ctx context.Context, kc *kubeconfigFlags, f *approverFlags) (*hub.Approver, error) {
	if err := hub.ValidateMaxCertificateLifetime(f.maxLifetime); err != nil {
		return nil, err
	}
	cfg, _, err := kc.load()
	if err != nil {
		return nil, err
	}
	if err := hub.RefuseKarmada(ctx, cfg); err != nil {
		return nil, err
	}
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	karmada, err := versioned.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	objs, err := objects.NewClient(cfg)
	if err != nil {
		return nil, err
	}
	return hub.NewApprover(kube, karmada, objs, hub.ClusterAccess{}, hub.WithMaxCertificateLifetime(f.maxLifetime)), nil
}

func newHubApproveCommand(kc *kubeconfigFlags) *cobra.Command {
	var f approverFlags
	cmd := &cobra.Command{
		Use:   "approve <csr name>...",
		Short: "Decide on agent CSRs once with Tether's rules; approving a registration creates the cluster's hub RBAC",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			a, err := newApprover(ctx, kc, &f)
			if err != nil {
				return err
			}
			for _, name := range args {
				d, err := a.Process(ctx, name)
				if err != nil {
					return err
				}
				switch d.Verdict {
				case hub.Approve, hub.Deny:
					fmt.Fprintf(cmd.OutOrStdout(), "CertificateSigningRequest %s: %s (%s)\n", name, d.Verdict, d.Message)
				default:
					return fmt.Errorf("CertificateSigningRequest %s was left alone: %s", name, d.Message)
				}
			}
			return nil
		},
	}
	f.addFlags(cmd.Flags())
	return cmd
}

func newHubApproverCommand(kc *kubeconfigFlags) *cobra.Command {
	var f approverFlags
	cmd := &cobra.Command{
		Use:   "approver",
		Short: "Run Tether's agent CSR approver until interrupted",
		Long: `Approver watches CSRs and applies Karmada's agent approval rules, hardened: it never
issues Karmada's rbac-generator identity, binds each cluster identity to the requester
that first registered it (and to the token's --cluster-name, if any), refuses a
bootstrap request for a cluster whose agent is alive (its Lease karmada-cluster/<cluster>
was renewed within its duration: a running agent renews its certificate itself), denies
certificates longer than --max-certificate-lifetime, and creates the cluster's
least-privilege RBAC and execution namespace before approving its first certificate.
Run it with hub admin credentials, e.g. as a Deployment on the hub. It refuses to
run against a Karmada control plane, where Karmada's agentcsrapproving controller
approves agents.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := commandContext(cmd)
			defer cancel()
			a, err := newApprover(ctx, kc, &f)
			if err != nil {
				return err
			}
			return a.Run(ctx)
		},
	}
	f.addFlags(cmd.Flags())
	return cmd
}
