package migrate

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"

	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/manifest"
)

// ownershipPlan prints the member objects of the cluster's Works whose
// field ownership moves to Tether.
func (m *migration) ownershipPlan(ctx context.Context, h *hubClients, cluster string) error {
	works, err := h.works(ctx, cluster)
	if err != nil {
		return err
	}
	mapper, dyn, err := memberMapping(m.cfg.Member)
	if err != nil {
		return err
	}
	moving, total := 0, 0
	for i := range works {
		for _, mf := range manifest.DecodeWork(&works[i]) {
			if !mf.Usable() {
				continue
			}
			total++
			line, err := ownershipLine(ctx, mapper, dyn, mf)
			if err != nil {
				m.step("  %s (Work %s): %v", mf.ID, works[i].Name, err)
				continue
			}
			if line != "" {
				moving++
				m.step("  %s (Work %s): %s", mf.ID, works[i].Name, line)
			}
		}
	}
	m.step("Field ownership: %d of the %d member objects of %d Works move to Tether on the agent's first contact", moving, total, len(works))
	return nil
}

// ownershipLine describes the move for one manifest's member object, ""
// when nothing moves.
func ownershipLine(ctx context.Context, mapper meta.RESTMapper, dyn dynamic.Interface, mf manifest.Manifest) (string, error) {
	mapping, err := mapper.RESTMapping(mf.ID.GVK().GroupKind(), mf.ID.Version)
	if err != nil {
		return "", fmt.Errorf("kind not served by the member: %w", err)
	}
	ns := ""
	if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
		ns = mf.ID.Scoped(true).Namespace
	}
	live, err := dyn.Resource(mapping.Resource).Namespace(ns).Get(ctx, mf.ID.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read it in the member: %w", err)
	}
	patch, err := apply.OwnershipPatch(live, apply.DefaultFieldManager)
	if err != nil || len(patch) == 0 {
		return "", err
	}
	var from []string
	for _, e := range live.GetManagedFields() {
		if apply.IsLegacyEntry(e.Manager, string(e.Operation), e.Subresource) && !slices.Contains(from, e.Manager) {
			from = append(from, e.Manager)
		}
	}
	return fmt.Sprintf("the fields of %s (Update) move to %s (Apply), a managedFields-only patch of %d bytes; content unchanged",
		strings.Join(from, ","), apply.DefaultFieldManager, len(patch)), nil
}

func memberMapping(cfg *rest.Config) (meta.RESTMapper, dynamic.Interface, error) {
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, nil, err
	}
	return restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(disc)), dyn, nil
}
