package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Keys of the hub credentials Secrets, Karmada's.
const (
	SecretTokenKey    = "token"
	SecretCABundleKey = "caBundle"
)

// Credentials are member credentials for the hub to reach the member, as
// karmada-agent reports them: KubeCredentials in the Secret
// <Namespace>/<cluster> (keys caBundle and token), referenced from
// spec.secretRef, and KubeImpersonator in <Namespace>/<cluster>-impersonator
// (key token), referenced from spec.impersonatorSecretRef. Both are owned
// by the Cluster (controller) and labelled karmada.io/system. Unlike
// karmada-agent, which creates them once and never updates them, Upload
// rewrites a Secret whose data differs, so a rotated token reaches the hub.
type Credentials struct {
	// HubCore writes the Secrets on the hub.
	HubCore kubernetes.Interface
	// Namespace is the hub namespace of the Secrets; default karmada-cluster.
	Namespace string
	// CABundle is the member's CA bundle, Token a bearer token for it
	// (KubeCredentials; nil: not reported).
	CABundle, Token []byte
	// ImpersonatorToken is the impersonator's token (KubeImpersonator;
	// nil: not reported).
	ImpersonatorToken []byte
}

func (c *Credentials) namespace() string {
	if c.Namespace == "" {
		return clusterv1alpha1.DefaultClusterNamespace
	}
	return c.Namespace
}

// SecretRef is the spec.secretRef of cluster, for a Credentials Secret in namespace.
func SecretRef(namespace, cluster string) *clusterv1alpha1.LocalSecretReference {
	return &clusterv1alpha1.LocalSecretReference{Namespace: namespace, Name: cluster}
}

// ImpersonatorSecretRef is the spec.impersonatorSecretRef of cluster.
func ImpersonatorSecretRef(namespace, cluster string) *clusterv1alpha1.LocalSecretReference {
	return &clusterv1alpha1.LocalSecretReference{Namespace: namespace, Name: cluster + "-impersonator"}
}

// refs sets the references of what c reports on spec.
func (c *Credentials) refs(spec *clusterv1alpha1.ClusterSpec, cluster string) {
	if c.Token != nil {
		spec.SecretRef = SecretRef(c.namespace(), cluster)
	}
	if c.ImpersonatorToken != nil {
		spec.ImpersonatorSecretRef = ImpersonatorSecretRef(c.namespace(), cluster)
	}
}

// Upload writes the Secrets of what c reports, owned by the Cluster owner:
// each is created when missing, and merge-patched when its data, label or
// owner differ; one that is as it should be costs one read and no write.
func (c *Credentials) Upload(ctx context.Context, owner *clusterv1alpha1.Cluster) error {
	if c.Token != nil {
		ref := SecretRef(c.namespace(), owner.Name)
		if err := c.upload(ctx, owner, ref.Name, map[string][]byte{SecretCABundleKey: c.CABundle, SecretTokenKey: c.Token}); err != nil {
			return err
		}
	}
	if c.ImpersonatorToken != nil {
		ref := ImpersonatorSecretRef(c.namespace(), owner.Name)
		return c.upload(ctx, owner, ref.Name, map[string][]byte{SecretTokenKey: c.ImpersonatorToken})
	}
	return nil
}

// upload creates the Secret name, or patches its data, label and owner
// when they differ.
func (c *Credentials) upload(ctx context.Context, owner *clusterv1alpha1.Cluster, name string, data map[string][]byte) error {
	ref := clusterOwnerReference(owner.Name, owner.UID)
	ref.Controller, ref.BlockOwnerDeletion = ptr.To(true), ptr.To(true)
	labels := map[string]string{workv1alpha1.SystemLabel: "true"}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: c.namespace(), Name: name, Labels: labels, OwnerReferences: []metav1.OwnerReference{ref}},
		Type:       corev1.SecretTypeOpaque,
		Data:       data,
	}
	secrets := c.HubCore.CoreV1().Secrets(secret.Namespace)
	live, err := secrets.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		_, err = secrets.Create(ctx, secret, metav1.CreateOptions{})
		if !apierrors.IsAlreadyExists(err) {
			return wrapCredentials(secret, err)
		}
		live, err = secrets.Get(ctx, name, metav1.GetOptions{})
	}
	if err != nil {
		return wrapCredentials(secret, err)
	}
	if sameData(live.Data, data) && live.Labels[workv1alpha1.SystemLabel] == "true" && hasOwner(live.OwnerReferences, ref) {
		return nil
	}
	// Keys the agent does not write (none in Karmada's Secrets) are left.
	patch, err := json.Marshal(map[string]any{
		"metadata": map[string]any{"labels": labels, "ownerReferences": []metav1.OwnerReference{ref}},
		"data":     data,
	})
	if err != nil {
		return err
	}
	_, err = secrets.Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{})
	return wrapCredentials(secret, err)
}

// sameData reports whether live holds every key of want with its value.
func sameData(live, want map[string][]byte) bool {
	sub := maps.Clone(live)
	maps.DeleteFunc(sub, func(k string, _ []byte) bool { _, ok := want[k]; return !ok })
	return maps.EqualFunc(sub, want, bytes.Equal)
}

func wrapCredentials(s *corev1.Secret, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("upload member credentials to hub Secret %s/%s: %w", s.Namespace, s.Name, err)
}
