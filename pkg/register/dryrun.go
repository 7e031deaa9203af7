package register

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tether-io/tether/pkg/register/objects"
)

// redactedKubeconfig stands for the Secret's content in a dry run; the
// real one exists only once the hub has issued the certificate.
const redactedKubeconfig = "<hub kubeconfig with the agent's client certificate, issued at registration>"

// printPlan prints what a registration would create, as YAML.
func (r *registration) printPlan(ctx context.Context) error {
	var member []runtime.Object
	live, err := r.objs.Get(ctx, r.agent.NamespaceObject())
	if err != nil {
		return err
	}
	if live == nil && !r.opts.SecretOnly {
		member = append(member, r.agent.NamespaceObject())
	}
	member = append(member, r.memberObjects([]byte(redactedKubeconfig))...)
	r.printf("# dry run: nothing was created.\n# Member cluster %s:\n", r.Member.Host)
	if err := r.printYAML(member); err != nil {
		return err
	}
	access := r.access()
	if r.hubType == HubTypeKarmada {
		r.printf("# Hub %s (created with Karmada's rbac-generator identity; shared namespaces only when missing):\n", r.info.Server)
		return r.printYAML(append(access.SharedNamespaces(), access.Objects()...))
	}
	r.printf("# Hub %s: Tether's approver creates these when it approves the agent's certificate:\n", r.info.Server)
	return r.printYAML(access.Objects())
}

func (r *registration) printYAML(objs []runtime.Object) error {
	out, err := objects.YAML(objs...)
	if err != nil {
		return fmt.Errorf("render the objects: %w", err)
	}
	_, err = r.Out.Write(out)
	return err
}
