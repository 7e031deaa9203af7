package main

import (
	"context"
	"fmt"
	"io"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/diff"
)

// memberDiff dry-runs objects against the member and diffs the results.
type memberDiff struct {
	applier *apply.Applier
	types   *apply.TypeCache
	host    string
}

// memberClients connects to the member named by --kubeconfig.
func (o *diffOptions) memberClients() (*memberDiff, error) {
	cfg, err := o.config(&o.member)
	if err != nil {
		return nil, fmt.Errorf("%w (give the member's kubeconfig with --kubeconfig)", err)
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig: %w", err)
	}
	client, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("--kubeconfig: %w", err)
	}
	cached := memory.NewMemCacheClient(disc)
	types := apply.NewTypeCache(cached)
	a := apply.New(apply.Config{
		Client: client, Mapper: restmapper.NewDeferredDiscoveryRESTMapper(cached),
		Types: types, FieldManager: apply.DefaultFieldManager,
	})
	return &memberDiff{applier: a, types: types, host: cfg.Host}, nil
}

// diffAll prints the diff of every usable manifest to out, in input order,
// and the errors of the others to stderr; it reports whether something
// would change. The error says how many manifests could not be diffed.
func (m *memberDiff) diffAll(ctx context.Context, in *desiredSet, out, stderr io.Writer) (bool, error) {
	changed, failed := false, 0
	stamp := in.stampFor()
	for _, mf := range in.manifests {
		if !mf.Usable() {
			failed++
			fmt.Fprintf(stderr, "Error: manifest %d: %v\n", mf.Ordinal, mf.Err)
			continue
		}
		text, err := m.diffOne(ctx, mf.Object, stamp)
		if err != nil {
			failed++
			fmt.Fprintf(stderr, "Error: %v\n", err)
			continue
		}
		if text != "" {
			changed = true
			if _, err := io.WriteString(out, text); err != nil {
				return changed, err
			}
		}
	}
	if failed > 0 {
		return changed, fmt.Errorf("%d of %d manifests could not be diffed (see the errors above)", failed, len(in.manifests))
	}
	return changed, nil
}

// diffOne dry-runs one object and returns its diff ("" when unchanged).
// An object whose namespace does not exist yet (the same Work creates it)
// cannot be dry-run: it shows as the manifest, all added.
func (m *memberDiff) diffOne(ctx context.Context, obj *unstructured.Unstructured, stamp func(desired, live *unstructured.Unstructured)) (string, error) {
	d, err := m.applier.DryRunOne(ctx, obj, stamp)
	switch {
	case err == nil:
		return diff.Object(d, m.types, apply.DefaultFieldManager)
	case d.Live == nil && d.GVR.Resource != "" && apierrors.IsNotFound(err):
		desired := obj.DeepCopy()
		stamp(desired, nil)
		return diff.Created(d.Subject, desired)
	case apierrors.IsForbidden(err):
		return "", fmt.Errorf("%w: the member identity (--kubeconfig, at %s) needs get and patch (dry runs are patches) on it", err, m.host)
	}
	return "", fmt.Errorf("%w (member at %s)", err, m.host)
}
