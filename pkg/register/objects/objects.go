// Package objects applies, finds and deletes the typed Kubernetes objects
// that registration creates on a hub or a member (namespaces, RBAC,
// secrets, the agent Deployment, CRDs), by server-side apply with one field
// manager, and renders them for --dry-run.
package objects

import (
	"context"
	"fmt"
	"strings"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// FieldManager owns the fields registration applies.
const FieldManager = "tether-agent"

// resources maps the kinds registration creates to their resources.
var resources = map[schema.GroupKind]string{
	{Kind: "Namespace"}:      "namespaces",
	{Kind: "Secret"}:         "secrets",
	{Kind: "ServiceAccount"}: "serviceaccounts",
	{Kind: "ConfigMap"}:      "configmaps",
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}:         "clusterroles",
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}:  "clusterrolebindings",
	{Group: "rbac.authorization.k8s.io", Kind: "Role"}:                "roles",
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}:         "rolebindings",
	{Group: "apps", Kind: "Deployment"}:                               "deployments",
	{Group: "coordination.k8s.io", Kind: "Lease"}:                     "leases",
	{Group: "apiextensions.k8s.io", Kind: "CustomResourceDefinition"}: "customresourcedefinitions",
}

// Refs names objects in messages, comma-separated.
func Refs(objs []runtime.Object) string {
	names := make([]string, len(objs))
	for i, o := range objs {
		names[i] = Ref(o)
	}
	return strings.Join(names, ", ")
}

// Client applies and deletes objects in one cluster.
type Client struct {
	dyn dynamic.Interface
}

// NewClient returns a Client for the cluster cfg points at.
func NewClient(cfg *rest.Config) (*Client, error) {
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	return &Client{dyn: dyn}, nil
}

// Ref names an object in messages: "Kind namespace/name" or "Kind name".
func Ref(obj runtime.Object) string {
	m, err := meta.Accessor(obj)
	kind := obj.GetObjectKind().GroupVersionKind().Kind
	if err != nil {
		return kind
	}
	if m.GetNamespace() != "" {
		return fmt.Sprintf("%s %s/%s", kind, m.GetNamespace(), m.GetName())
	}
	return kind + " " + m.GetName()
}

func (c *Client) resource(obj runtime.Object) (dynamic.ResourceInterface, string, error) {
	gvk := obj.GetObjectKind().GroupVersionKind()
	res, ok := resources[gvk.GroupKind()]
	if !ok {
		return nil, "", fmt.Errorf("%s: kind %s is not one registration manages (TypeMeta set?)", Ref(obj), gvk)
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, "", err
	}
	ri := c.dyn.Resource(gvk.GroupVersion().WithResource(res))
	if ns := m.GetNamespace(); ns != "" {
		return ri.Namespace(ns), m.GetName(), nil
	}
	return ri, m.GetName(), nil
}

// Apply server-side applies each object in order, taking ownership of the
// fields it sets.
func (c *Client) Apply(ctx context.Context, objs ...runtime.Object) error {
	for _, obj := range objs {
		ri, name, err := c.resource(obj)
		if err != nil {
			return err
		}
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return fmt.Errorf("%s: %w", Ref(obj), err)
		}
		u := &unstructured.Unstructured{Object: raw}
		unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(u.Object, "status")
		if _, err := ri.Apply(ctx, name, u, metav1.ApplyOptions{FieldManager: FieldManager, Force: true}); err != nil {
			return fmt.Errorf("apply %s: %w", Ref(obj), err)
		}
	}
	return nil
}

// Get returns the live object, or nil when it does not exist.
func (c *Client) Get(ctx context.Context, obj runtime.Object) (*unstructured.Unstructured, error) {
	ri, name, err := c.resource(obj)
	if err != nil {
		return nil, err
	}
	live, err := ri.Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", Ref(obj), err)
	}
	return live, nil
}

// Existing returns the objects among objs that exist.
func (c *Client) Existing(ctx context.Context, objs ...runtime.Object) ([]runtime.Object, error) {
	var found []runtime.Object
	for _, obj := range objs {
		live, err := c.Get(ctx, obj)
		if err != nil {
			return nil, err
		}
		if live != nil {
			found = append(found, obj)
		}
	}
	return found, nil
}

// Delete deletes each object (in reverse order, dependents first), with
// background propagation; absent objects are skipped. It returns the
// objects it deleted.
func (c *Client) Delete(ctx context.Context, objs ...runtime.Object) ([]runtime.Object, error) {
	var deleted []runtime.Object
	policy := metav1.DeletePropagationBackground
	for i := len(objs) - 1; i >= 0; i-- {
		ri, name, err := c.resource(objs[i])
		if err != nil {
			return deleted, err
		}
		err = ri.Delete(ctx, name, metav1.DeleteOptions{PropagationPolicy: &policy})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return deleted, fmt.Errorf("delete %s: %w", Ref(objs[i]), err)
		default:
			deleted = append(deleted, objs[i])
		}
	}
	return deleted, nil
}

// WaitGone waits until none of objs exists (namespaces finalize
// asynchronously).
func (c *Client) WaitGone(ctx context.Context, timeout time.Duration, objs ...runtime.Object) error {
	var left []runtime.Object
	err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
		var err error
		left, err = c.Existing(ctx, objs...)
		return err == nil && len(left) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("still present after %s: %s", timeout, Refs(left))
	}
	return nil
}

// YAML renders objects as a multi-document YAML stream.
func YAML(objs ...runtime.Object) ([]byte, error) {
	var b strings.Builder
	for _, obj := range objs {
		raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
		if err != nil {
			return nil, err
		}
		unstructured.RemoveNestedField(raw, "metadata", "creationTimestamp")
		unstructured.RemoveNestedField(raw, "status")
		out, err := yaml.Marshal(raw)
		if err != nil {
			return nil, err
		}
		b.WriteString("---\n")
		b.Write(out)
	}
	return []byte(b.String()), nil
}
