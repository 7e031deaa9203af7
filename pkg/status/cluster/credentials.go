package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Credentials are member credentials for the hub to reach the member (what
// karmada-agent reports as KubeCredentials). Join writes them to the hub
// Secret <Namespace>/<cluster> with the keys caBundle and token, owned by
// the Cluster, and points spec.secretRef at it. Unlike karmada-agent, which
// creates the Secret once and never updates it, it refreshes the Secret when
// the token changed (docs/karmada-compatibility.md, "Cluster status").
type Credentials struct {
	// HubCore writes the Secret on the hub.
	HubCore kubernetes.Interface
	// Namespace is the hub namespace of the Secret; default karmada-cluster.
	Namespace string
	// CABundle is the member's CA bundle, Token a bearer token for it.
	CABundle, Token []byte
}

func (c *Credentials) namespace() string {
	if c.Namespace == "" {
		return clusterv1alpha1.DefaultClusterNamespace
	}
	return c.Namespace
}

func (c *Credentials) ref(cluster string) *clusterv1alpha1.LocalSecretReference {
	return &clusterv1alpha1.LocalSecretReference{Namespace: c.namespace(), Name: cluster}
}

// upload creates the Secret, or patches its data and owner when they differ.
func (c *Credentials) upload(ctx context.Context, owner *clusterv1alpha1.Cluster) error {
	ref := clusterOwnerReference(owner.Name, owner.UID)
	ref.Controller, ref.BlockOwnerDeletion = ptr.To(true), ptr.To(true)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Namespace:       c.namespace(),
			Name:            owner.Name,
			Labels:          map[string]string{workv1alpha1.SystemLabel: "true"},
			OwnerReferences: []metav1.OwnerReference{ref},
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{"caBundle": c.CABundle, "token": c.Token},
	}
	secrets := c.HubCore.CoreV1().Secrets(secret.Namespace)
	_, err := secrets.Create(ctx, secret, metav1.CreateOptions{})
	if !apierrors.IsAlreadyExists(err) {
		return wrapCredentials(secret, err)
	}
	live, err := secrets.Get(ctx, secret.Name, metav1.GetOptions{})
	if err != nil {
		return wrapCredentials(secret, err)
	}
	if bytes.Equal(live.Data["caBundle"], c.CABundle) && bytes.Equal(live.Data["token"], c.Token) && hasOwner(live.OwnerReferences, ref) {
		return nil
	}
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"ownerReferences": []metav1.OwnerReference{ref}},
		"data":     secret.Data,
	})
	if err != nil {
		return err
	}
	_, err = secrets.Patch(ctx, secret.Name, types.MergePatchType, patch, metav1.PatchOptions{})
	return wrapCredentials(secret, err)
}

func wrapCredentials(s *corev1.Secret, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("upload member credentials to Secret %s/%s: %w", s.Namespace, s.Name, err)
}
