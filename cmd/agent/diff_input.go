package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/override"
)

// workName is the Work 'diff work' reads.
type workName struct{ namespace, name string }

// desiredSet is what diff dry-runs: the rendered manifests, and the Work
// they belong to (nil for files: an object is then stamped for the Work its
// live object names, if any).
type desiredSet struct {
	manifests []manifest.Manifest
	work      *manifest.WorkRef
}

// desired reads and renders the manifests, from the Work or the files.
func (o *diffOptions) desired(ctx context.Context, stdin io.Reader, stderr io.Writer, work *workName, mode override.Mode) (*desiredSet, error) {
	var hub versioned.Interface
	if work != nil || o.hub.path != "" {
		cfg, err := o.config(&o.hub)
		if err != nil {
			return nil, fmt.Errorf("%w (give the hub's kubeconfig with --karmada-kubeconfig)", err)
		}
		if hub, err = versioned.NewForConfig(cfg); err != nil {
			return nil, fmt.Errorf("--karmada-kubeconfig: %w", err)
		}
	}
	if work != nil {
		return o.workManifests(ctx, hub, stderr, *work, mode)
	}
	return o.fileManifests(ctx, hub, stdin)
}

// workManifests reads the Work from the hub and renders it as the agent does.
func (o *diffOptions) workManifests(ctx context.Context, hub versioned.Interface, stderr io.Writer, name workName, mode override.Mode) (*desiredSet, error) {
	work, err := hub.WorkV1alpha1().Works(name.namespace).Get(ctx, name.name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("read Work %s/%s from the hub: %w (check the name and --karmada-kubeconfig)", name.namespace, name.name, err)
	}
	ms := manifest.DecodeWork(work)
	if ok, why := override.ShouldRender(mode, work); ok {
		policies, err := hubPolicies(ctx, hub, mode, stderr)
		if err != nil {
			return nil, err
		}
		cluster := o.cluster
		if cluster == "" {
			cluster = strings.TrimPrefix(work.Namespace, workv1alpha1.ExecutionSpacePrefix)
		}
		if err := renderWork(ctx, hub, ms, cluster, policies); err != nil {
			return nil, err
		}
	} else {
		fmt.Fprintf(stderr, "Work %s/%s is not rendered at the edge: %s.\n", work.Namespace, work.Name, why)
	}
	return &desiredSet{manifests: ms, work: &manifest.WorkRef{Namespace: work.Namespace, Name: work.Name}}, nil
}

// fileManifests reads manifests, policies and Clusters from the files (and
// the hub's policies when a hub is given) and renders every manifest.
func (o *diffOptions) fileManifests(ctx context.Context, hub versioned.Interface, stdin io.Reader) (*desiredSet, error) {
	if err := (&renderOptions{files: o.files, output: "yaml"}).validate(); err != nil {
		return nil, err
	}
	in := &override.Input{}
	for _, f := range o.files {
		if err := read(in, f, stdin); err != nil {
			return nil, err
		}
	}
	ms := make([]manifest.Manifest, len(in.Manifests))
	for i, obj := range in.Manifests {
		ms[i] = manifest.Manifest{Ordinal: i, ID: manifest.IdentityOf(obj), Object: obj}
	}
	policies := in.Policies
	if hub != nil {
		more, err := hubPolicies(ctx, hub, override.ModeAlways, nil)
		if err != nil {
			return nil, err
		}
		policies.OverridePolicies = append(policies.OverridePolicies, more.OverridePolicies...)
		policies.ClusterOverridePolicies = append(policies.ClusterOverridePolicies, more.ClusterOverridePolicies...)
	}
	if err := renderWith(ctx, hub, ms, o.cluster, policies, in.Clusters); err != nil {
		return nil, err
	}
	return &desiredSet{manifests: ms}, nil
}

// hubPolicies lists the hub's OverridePolicies and ClusterOverridePolicies.
// An identity that may not list them renders nothing in ModeAuto, as the
// agent does (with a warning on stderr); stderr nil makes it an error.
func hubPolicies(ctx context.Context, hub versioned.Interface, mode override.Mode, stderr io.Writer) (override.Policies, error) {
	var p override.Policies
	ops, err := hub.PolicyV1alpha1().OverridePolicies(metav1.NamespaceAll).List(ctx, metav1.ListOptions{})
	if err == nil {
		for i := range ops.Items {
			p.OverridePolicies = append(p.OverridePolicies, &ops.Items[i])
		}
		cops, cerr := hub.PolicyV1alpha1().ClusterOverridePolicies().List(ctx, metav1.ListOptions{})
		if err = cerr; err == nil {
			for i := range cops.Items {
				p.ClusterOverridePolicies = append(p.ClusterOverridePolicies, &cops.Items[i])
			}
		}
	}
	switch {
	case err == nil:
		return p, nil
	case apierrors.IsForbidden(err) && mode != override.ModeAlways && stderr != nil:
		fmt.Fprintf(stderr, "Warning: this hub identity may not list override policies, so overrides are not rendered, as the agent does with --render-overrides=Auto: %v\n", err)
		return override.Policies{}, nil
	}
	return p, fmt.Errorf("list override policies on the hub: %w (use a hub identity that may list OverridePolicies and ClusterOverridePolicies, e.g. the agent's)", err)
}

// renderWork renders a Work's manifests with the hub's Cluster, which must
// exist when there are policies (the agent waits for it).
func renderWork(ctx context.Context, hub versioned.Interface, ms []manifest.Manifest, name string, policies override.Policies) error {
	if len(policies.OverridePolicies) == 0 && len(policies.ClusterOverridePolicies) == 0 {
		return nil
	}
	c, err := hub.ClusterV1alpha1().Clusters().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read Cluster %s from the hub, which the overrides need: %w (check --cluster-name and --karmada-kubeconfig)", name, err)
	}
	manifest.Render(ms, c, policies)
	return nil
}

// renderWith renders ms for the named member when there are policies: the
// Cluster is the one among clusters (files) or read from the hub.
func renderWith(ctx context.Context, hub versioned.Interface, ms []manifest.Manifest, name string, policies override.Policies, clusters []*clusterv1alpha1.Cluster) error {
	if len(policies.OverridePolicies) == 0 && len(policies.ClusterOverridePolicies) == 0 {
		return nil
	}
	if len(clusters) == 0 && hub != nil && name != "" {
		c, err := hub.ClusterV1alpha1().Clusters().Get(ctx, name, metav1.GetOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("read Cluster %s from the hub: %w (check --cluster-name and --karmada-kubeconfig)", name, err)
		}
		if err == nil {
			clusters = []*clusterv1alpha1.Cluster{c}
		}
	}
	cluster, err := pickCluster(clusters, name)
	if err != nil {
		return fmt.Errorf("%w (--cluster-name names the member)", err)
	}
	manifest.Render(ms, cluster, policies)
	return nil
}

// stampFor returns how a desired object is stamped: for the Work, or, for
// files, for the Work its live object names (so that the markers do not
// show as removed).
func (d *desiredSet) stampFor() func(desired, live *unstructured.Unstructured) {
	return func(desired, live *unstructured.Unstructured) {
		if d.work != nil {
			manifest.Stamp(desired, *d.work)
			return
		}
		if live == nil {
			return
		}
		if w, ok := manifest.WorkOf(live); ok {
			manifest.Stamp(desired, w)
		}
	}
}
