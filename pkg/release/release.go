package release

import (
	"context"
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
)

// Action is what Release did with one object.
type Action string

const (
	// Deleted: the object was deleted.
	Deleted Action = "deleted"
	// Preserved: the object stays, without Karmada's markers.
	Preserved Action = "preserved"
	// Absent: there is no such object (or its kind is not served any more).
	Absent Action = "absent"
	// NotOwned: the object exists but belongs to another Work or to nobody;
	// it was left alone.
	NotOwned Action = "not-owned"
	// Blocked: deleting it would cascade into objects the agent does not
	// own; it waits (Result.Err is a *BlockedError).
	Blocked Action = "blocked"
	// Failed: Result.Err says why; retry.
	Failed Action = "failed"
)

// Cache is the agent's member cache (member.Objects).
type Cache interface {
	Live(id manifest.Identity) member.Answer
}

// BlockersFunc lists the objects that deleting live (a Namespace or a
// CustomResourceDefinition) would take with it and that the agent does not
// own; none means the delete may go ahead.
type BlockersFunc func(ctx context.Context, live *unstructured.Unstructured) ([]string, error)

// Config wires a Releaser.
type Config struct {
	// Applier maps kinds and performs the deletes and strips.
	Applier *apply.Applier
	// Client reads objects from the apiserver.
	Client dynamic.Interface
	// Cache is optional; without it every object is read from the apiserver.
	Cache Cache
	// Blockers is optional; without it Namespace and CRD deletes cascade.
	Blockers BlockersFunc
}

// Releaser releases member objects of Works.
type Releaser struct{ cfg Config }

// New returns a Releaser.
func New(cfg Config) *Releaser { return &Releaser{cfg: cfg} }

// Options shape one release.
type Options struct {
	// Preserve keeps the object and strips Karmada's markers
	// (preserveResourcesOnDeletion).
	Preserve bool
	// Cascade lets a Namespace or CRD delete take unowned objects with it
	// (the Work's tether.io/cascade-delete annotation).
	Cascade bool
}

// Result is the outcome for one object.
type Result struct {
	ID     manifest.Identity
	Action Action
	Err    error
}

// BlockedError says which unowned objects a cascading delete waits for.
type BlockedError struct {
	Subject  string
	Blockers []string
}

func (e *BlockedError) Error() string {
	return fmt.Sprintf("%s is not deleted: it would take with it objects the agent does not own (%s); "+
		"remove them, or annotate the Work with %s=true to allow the cascade",
		e.Subject, strings.Join(e.Blockers, ", "), workv1alpha1.CascadeDeleteAnnotation)
}

// Release deletes (or preserves) the member object id if work owns it.
func (r *Releaser) Release(ctx context.Context, work manifest.WorkRef, id manifest.Identity, o Options) Result {
	res := Result{ID: id}
	gvr, scoped, err := r.resolve(id)
	if meta.IsNoMatchError(err) {
		res.Action = Absent // the kind is not served any more, so no such object exists
		return res
	}
	if err != nil {
		res.Action, res.Err = Failed, err
		return res
	}
	res.ID = scoped
	live, err := r.current(ctx, gvr, scoped)
	switch {
	case err != nil:
		res.Action, res.Err = Failed, fmt.Errorf("read %s: %w", scoped, err)
		return res
	case live == nil:
		res.Action = Absent
		return res
	case !manifest.OwnedBy(live, work):
		res.Action = NotOwned
		return res
	}
	if o.Preserve || manifest.PruneDisabled(live) {
		return r.preserve(ctx, gvr, live, res)
	}
	if !o.Cascade && r.cfg.Blockers != nil && cascades(scoped) {
		blockers, err := r.cfg.Blockers(ctx, live)
		if err != nil {
			res.Action, res.Err = Failed, fmt.Errorf("check what deleting %s would take with it: %w", scoped, err)
			return res
		}
		if len(blockers) > 0 {
			res.Action, res.Err = Blocked, &BlockedError{Subject: scoped.String(), Blockers: blockers}
			return res
		}
	}
	e := r.cfg.Applier.Delete(ctx, gvr, live)
	res.Action, res.Err = Deleted, e.Err
	if e.Err != nil {
		res.Action = Failed
	} else if e.Action == apply.Unchanged {
		res.Action = NotOwned // re-created meanwhile (UID changed): not the object we owned
	}
	return res
}

func (r *Releaser) preserve(ctx context.Context, gvr schema.GroupVersionResource, live *unstructured.Unstructured, res Result) Result {
	e := r.cfg.Applier.StripMetadata(ctx, gvr, live, workv1alpha1.PreserveStrippedLabels, workv1alpha1.PreserveStrippedAnnotations)
	res.Action, res.Err = Preserved, e.Err
	if e.Err != nil {
		res.Action = Failed
	}
	return res
}

// resolve maps id to its resource and normalises its namespace for the scope.
func (r *Releaser) resolve(id manifest.Identity) (schema.GroupVersionResource, manifest.Identity, error) {
	obj := &unstructured.Unstructured{}
	obj.SetGroupVersionKind(id.GVK())
	obj.SetName(id.Name)
	m, err := r.cfg.Applier.Mapping(obj)
	if err != nil {
		var nm *meta.NoKindMatchError
		if errors.As(err, &nm) {
			return schema.GroupVersionResource{}, id, nm
		}
		return schema.GroupVersionResource{}, id, err
	}
	return m.Resource, id.Scoped(member.Namespaced(m)), nil
}

// current returns the object, or nil when the apiserver says it does not
// exist. A cache hit is trusted (the delete is guarded by the object's
// UID); a cache miss is confirmed with a read from etcd.
func (r *Releaser) current(ctx context.Context, gvr schema.GroupVersionResource, id manifest.Identity) (*unstructured.Unstructured, error) {
	if r.cfg.Cache != nil {
		if obj, found := r.cfg.Cache.Live(id).Cached(); found {
			return obj, nil
		}
	}
	ri := dynamic.ResourceInterface(r.cfg.Client.Resource(gvr))
	if id.Namespace != "" {
		ri = r.cfg.Client.Resource(gvr).Namespace(id.Namespace)
	}
	obj, err := ri.Get(ctx, id.Name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

// cascades reports whether deleting an object of this kind deletes others.
func cascades(id manifest.Identity) bool {
	return (id.Group == "" && id.Kind == "Namespace") ||
		(id.Group == "apiextensions.k8s.io" && id.Kind == "CustomResourceDefinition")
}
