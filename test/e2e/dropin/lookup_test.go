package dropin

import (
	"context"
	"fmt"
	"path"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// karmadactlHubKubeconfig finds the agent's hub kubeconfig the way
// karmadactl unregister does without --karmada-config: the
// --karmada-kubeconfig= argument of the first container's command, the
// volume mounted at that file's directory, and the key of that Secret
// named like the file. Written here from its description, independently of
// pkg/migrate, so that a migrated Deployment is checked against it.
func karmadactlHubKubeconfig(ctx context.Context, cs kubernetes.Interface, d *appsv1.Deployment) ([]byte, error) {
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return nil, fmt.Errorf("no container")
	}
	c := d.Spec.Template.Spec.Containers[0]
	file := ""
	for _, arg := range c.Command {
		if v, ok := strings.CutPrefix(arg, "--karmada-kubeconfig="); ok {
			file = v
		}
	}
	if file == "" {
		return nil, fmt.Errorf("the first container's command has no --karmada-kubeconfig= argument")
	}
	dir, key := path.Dir(file), path.Base(file)
	volume := ""
	for _, m := range c.VolumeMounts {
		if m.MountPath == dir {
			volume = m.Name
		}
	}
	if volume == "" {
		return nil, fmt.Errorf("no volume is mounted at %s", dir)
	}
	for _, v := range d.Spec.Template.Spec.Volumes {
		if v.Name != volume || v.Secret == nil {
			continue
		}
		s, err := cs.CoreV1().Secrets(d.Namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
		if err != nil {
			return nil, err
		}
		raw, ok := s.Data[key]
		if !ok {
			return nil, fmt.Errorf("Secret %s has no key %s", s.Name, key)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("volume %s is not a Secret volume", volume)
}
