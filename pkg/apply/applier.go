package apply

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/tether-io/tether/pkg/drift"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
)

// DefaultFieldManager is the field manager Tether applies under.
const DefaultFieldManager = "tether"

// Cache is the member cache the engine reads live objects from before
// falling back to a GET (member.Objects). A cache may drop managedFields,
// except on objects that carry an entry IsLegacyEntry reports: the engine
// moves those (OwnershipPatch). OwnedFields returns the FieldsV1 JSON of the
// manager's Apply entry for a cached object (nil: none at hand).
type Cache interface {
	Live(id manifest.Identity) member.Answer
	OwnedFields(live *unstructured.Unstructured) []byte
}

// Config wires an Applier.
type Config struct {
	Client dynamic.Interface
	// Kinds maps kinds; without it the Applier builds its own over Mapper.
	Kinds  *member.Kinds
	Mapper meta.ResettableRESTMapper
	Types  *TypeCache
	// Cache is optional; without it every live object is read with a GET.
	Cache        Cache
	FieldManager string
	// Retain, if set, runs before an apply over an existing object, after
	// the engine's own retention: it returns the object to apply, with the
	// values to keep copied from live (a ResourceInterpreterCustomization's
	// retention rule). An error fails the object's apply.
	Retain RetainFunc
	// DriftMode is the drift policy of objects without the annotation
	// tether.io/drift-mode (default correct; see modes.go).
	DriftMode drift.Mode
}

// RetainFunc returns desired with the values to keep copied from live.
type RetainFunc func(desired, live *unstructured.Unstructured) (*unstructured.Unstructured, error)

// Applier applies objects to one cluster with server-side apply.
type Applier struct {
	client       dynamic.Interface
	kinds        *member.Kinds
	types        *TypeCache
	cache        Cache
	fieldManager string
	retain       RetainFunc
	driftMode    drift.Mode
	stats        counters
}

type counters struct {
	gets, applies, creates, dryRuns, localSame, deletes, ownershipMoves atomic.Int64
}

// Stats are the engine's request counters since it was built.
type Stats struct {
	// Gets are live reads that missed the cache; Applies are apply writes;
	// Creates are applies that may only create (the cache knew the object
	// absent; when it exists after all, the refused create falls back to a
	// read);
	// DryRuns are server-side dry runs asked for by an inconclusive local check;
	// LocalSame counts Unchanged verdicts reached without any request;
	// OwnershipMoves are managedFields-only patches that took over a legacy
	// manager's fields (OwnershipPatch).
	Gets, Applies, Creates, DryRuns, LocalSame, Deletes, OwnershipMoves int64
}

// New returns an Applier.
func New(cfg Config) *Applier {
	fm := cfg.FieldManager
	if fm == "" {
		fm = DefaultFieldManager
	}
	kinds := cfg.Kinds
	if kinds == nil {
		kinds = member.NewKinds(cfg.Mapper)
	}
	mode := cfg.DriftMode
	if mode == "" {
		mode = drift.Correct
	}
	return &Applier{client: cfg.Client, kinds: kinds, types: cfg.Types, cache: cfg.Cache, fieldManager: fm, retain: cfg.Retain, driftMode: mode}
}

// Stats returns the request counters.
func (a *Applier) Stats() Stats {
	return Stats{Gets: a.stats.gets.Load(), Applies: a.stats.applies.Load(), Creates: a.stats.creates.Load(), DryRuns: a.stats.dryRuns.Load(),
		LocalSame: a.stats.localSame.Load(), Deletes: a.stats.deletes.Load(), OwnershipMoves: a.stats.ownershipMoves.Load()}
}

// Options shape one Apply call.
type Options struct {
	// TakeOver decides whether an existing object that Owned says is not ours
	// may be taken over; it returns an error that explains the refusal. Nil
	// takes over anything.
	TakeOver func(desired, live *unstructured.Unstructured) error
	// Owned reports whether a live object is already managed by the caller.
	// Nil treats every object as owned.
	Owned func(live *unstructured.Unstructured) bool
}

// ApplyOne applies one object and reports what happened.
func (a *Applier) ApplyOne(ctx context.Context, obj *unstructured.Unstructured, opts Options) Entry {
	desired := normalize(obj)
	e := Entry{Subject: Subject(desired)}
	if _, err := a.driftPolicy(desired); err != nil {
		e.Action, e.Err = Failed, err
		return e
	}
	mapping, err := a.Mapping(desired)
	if err != nil {
		e.Action, e.Err = Failed, err
		return e
	}
	e.GVR = mapping.Resource
	desired.SetNamespace(manifest.IdentityOf(desired).Scoped(member.Namespaced(mapping)).Namespace)
	live, created, err := a.createOrRead(ctx, e.GVR, desired, opts.Owned)
	switch {
	case err != nil:
		e.Action, e.Err = Failed, classify(e.Subject, err)
		return e
	case created != nil:
		e.Action, e.Object = Created, created
		return e
	}
	if live != nil {
		var done bool
		if desired, done = a.prepare(ctx, &e, desired, live, opts); done {
			return e
		}
	}
	a.stats.applies.Add(1)
	out, err := a.resource(e.GVR, desired.GetNamespace()).Apply(ctx, desired.GetName(), desired,
		metav1.ApplyOptions{FieldManager: a.fieldManager, Force: true})
	if err != nil {
		e.Action, e.Err = Failed, classify(e.Subject, err)
		return e
	}
	e.Object = out
	e.Action = map[bool]Action{true: Configured, false: Created}[live != nil]
	return e
}

// prepare readies the apply of desired over the existing live object: it
// refuses a takeover the caller does not allow, moves a legacy manager's
// fields, applies the retention rules and the manifest's drift mode, and
// decides whether anything would change. It returns the object to apply, or
// done when e is final (failed, or nothing to write).
func (a *Applier) prepare(ctx context.Context, e *Entry, desired, live *unstructured.Unstructured, opts Options) (_ *unstructured.Unstructured, done bool) {
	if opts.Owned != nil && !opts.Owned(live) && opts.TakeOver != nil {
		if err := opts.TakeOver(desired, live); err != nil {
			e.Action, e.Err = Failed, &ConflictError{TerminalError{Subject: e.Subject, Reason: err.Error()}}
			if errors.Is(err, ErrConflictMayResolve) {
				e.Err = fmt.Errorf("%s: %w", e.Subject, err)
			}
			return nil, true
		}
	}
	live, moved, err := a.takeOwnership(ctx, e.GVR, desired, live)
	e.OwnershipMoved = moved
	if err != nil {
		e.Action, e.Err = Failed, classify(e.Subject, err)
		return nil, true
	}
	a.keepRetainedReplicas(desired, live)
	if desired, err = a.retained(desired, live); err != nil {
		e.Action, e.Err = Failed, fmt.Errorf("%s: %w", e.Subject, err)
		return nil, true
	}
	if desired, done = a.followMode(ctx, e, desired, live); done {
		return nil, true
	}
	switch v, _ := a.compareLocally(desired, live); v {
	case same:
		a.stats.localSame.Add(1)
		e.Action, e.DecidedBy = Unchanged, "fieldset"
		return nil, true
	case inconclusive:
		if ok, err := a.dryRunSame(ctx, e.GVR, desired, live); err == nil && ok {
			e.Action, e.DecidedBy = Unchanged, "dryrun"
			return nil, true
		}
	}
	a.noteDrift(ctx, e, desired, live)
	if a.holdDrift(e, desired) {
		return nil, true
	}
	return desired, false
}

// createOrRead creates desired's object when the member cache knows it is
// absent (its informer has synced and holds neither the object nor an apply
// response for it), and returns it as created. Otherwise, or when the object exists
// after all (the cache had not seen it yet), it returns the live object, to
// be applied over with the ownership checks; nil live: it does not exist.
func (a *Applier) createOrRead(ctx context.Context, gvr schema.GroupVersionResource, desired *unstructured.Unstructured, owned func(*unstructured.Unstructured) bool) (live, created *unstructured.Unstructured, err error) {
	var ans member.Answer // Unknown without a cache
	if a.cache != nil {
		ans = a.cache.Live(manifest.IdentityOf(desired))
	}
	if ans.State != member.Absent {
		live, err = a.current(ctx, gvr, desired, ans, owned)
		return live, nil, err
	}
	created, err = a.create(ctx, gvr, desired)
	if !apierrors.IsConflict(err) {
		return nil, created, err
	}
	// Newer than the cache, and maybe newer than the apiserver's watch
	// cache too: read it from etcd.
	live, err = a.get(ctx, gvr, desired, "")
	return live, nil, err
}

// createOnly is a resourceVersion no stored object has (etcd's revisions
// count up from 1 and never reach it). An apply that carries it creates an
// object that does not exist, and is refused with a conflict (409) when one
// does: an object the cache did not know of yet is never overwritten unseen.
const createOnly = "18446744073709551615"

// create applies desired as an object that must not exist yet: one request,
// the same server-side apply (and so the same Apply entry in managedFields)
// as any other. A conflict means the object exists.
func (a *Applier) create(ctx context.Context, gvr schema.GroupVersionResource, desired *unstructured.Unstructured) (*unstructured.Unstructured, error) {
	body := desired.DeepCopy()
	body.SetResourceVersion(createOnly)
	a.stats.creates.Add(1)
	return a.resource(gvr, desired.GetNamespace()).Apply(ctx, desired.GetName(), body,
		metav1.ApplyOptions{FieldManager: a.fieldManager, Force: true})
}

// current returns the object as it is: from the member cache's answer ans,
// else read from the apiserver; nil when it does not exist.
// owned is the caller's Owned (nil: everything is owned).
func (a *Applier) current(ctx context.Context, gvr schema.GroupVersionResource, desired *unstructured.Unstructured, ans member.Answer, owned func(*unstructured.Unstructured) bool) (*unstructured.Unstructured, error) {
	if obj, ok := ans.Cached(); ok {
		return obj, nil
	}
	// Served from the apiserver's watch cache rather than etcd: this read
	// mostly asks whether an object exists and is managed, and a create
	// racing it within the cache's lag (milliseconds) is a race either way.
	obj, err := a.get(ctx, gvr, desired, "0")
	if obj == nil || err != nil || (owned != nil && !owned(obj)) {
		return obj, err
	}
	// A managed object that the caller's cache did not have: the watch
	// cache may still hold one just deleted, which would be judged
	// unchanged and not re-created. Ask etcd.
	return a.get(ctx, gvr, desired, "")
}

// get reads desired's object at resourceVersion rv ("0": any cached
// version; "": the latest); nil when it does not exist.
func (a *Applier) get(ctx context.Context, gvr schema.GroupVersionResource, desired *unstructured.Unstructured, rv string) (*unstructured.Unstructured, error) {
	a.stats.gets.Add(1)
	obj, err := a.resource(gvr, desired.GetNamespace()).Get(ctx, desired.GetName(), metav1.GetOptions{ResourceVersion: rv})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

func (a *Applier) resource(gvr schema.GroupVersionResource, namespace string) dynamic.ResourceInterface {
	if namespace == "" {
		return a.client.Resource(gvr)
	}
	return a.client.Resource(gvr).Namespace(namespace)
}

// normalize returns a copy of obj without the fields a server sets, which an
// apply body must not carry (status is reset on the main resource anyway).
func normalize(obj *unstructured.Unstructured) *unstructured.Unstructured {
	c := obj.DeepCopy()
	for _, f := range []string{"resourceVersion", "uid", "creationTimestamp", "deletionTimestamp",
		"deletionGracePeriodSeconds", "generation", "managedFields", "selfLink"} {
		unstructured.RemoveNestedField(c.Object, "metadata", f)
	}
	unstructured.RemoveNestedField(c.Object, "status")
	return c
}
