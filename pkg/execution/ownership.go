package execution

import (
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/apply"
	"github.com/tether-io/tether/pkg/manifest"
)

var everything = labels.Everything()

// Who may write a member object (the README's "Failure behaviour" says it for users):
//   - an object whose work.karmada.io annotations name this Work is this
//     Work's, also when someone removed its karmada.io/managed label (the
//     apply restores it);
//   - an object managed for another Work of this cluster that still lists it
//     is that Work's: a conflict, whatever conflict-resolution says, so that
//     two Works never take an object from each other in turn; the Work that
//     came second reports it and retries with backoff;
//   - an object managed for another Work that no longer lists it (or is
//     being deleted) is taken over with conflict-resolution: overwrite, and
//     otherwise waits (retried with backoff) for that Work to release it;
//   - an object managed for a Work that does not exist is taken over: no
//     Work claims it;
//   - anything else (unmanaged, or managed for another cluster) is taken
//     over only with conflict-resolution: overwrite.

// ownedBy is the apply engine's Owned for one Work.
func ownedBy(self manifest.WorkRef) func(live *unstructured.Unstructured) bool {
	return func(live *unstructured.Unstructured) bool {
		w, ok := manifest.WorkOf(live)
		return ok && w == self
	}
}

// takeOver is the apply engine's TakeOver for one Work: it decides whether
// an existing object that is not this Work's may be written.
func (c *Controller) takeOver(self manifest.WorkRef) func(desired, live *unstructured.Unstructured) error {
	return func(desired, live *unstructured.Unstructured) error {
		other, named := manifest.WorkOf(live)
		if !manifest.Managed(live) || !named || other.Namespace != self.Namespace {
			return overwriteAllowed(desired)
		}
		w, err := c.works.Get(other.Name)
		if apierrors.IsNotFound(err) {
			return nil // no Work claims it
		}
		if err != nil {
			return err
		}
		if w.DeletionTimestamp.IsZero() && c.claims(w, manifest.IdentityOf(desired)) {
			return fmt.Errorf("%w: Works %s and %s both list it, and a member object belongs to one Work only; "+
				"it stays with %s: remove it from one of them", apply.ErrConflictMayResolve, other.Key(), self.Key(), other.Key())
		}
		if overwriteAllowed(desired) == nil {
			return nil
		}
		return fmt.Errorf("%w: it is managed for Work %s, which no longer lists it or is being deleted; this Work %s takes it once that Work "+
			"releases it, or at once with the annotation %s=%s on the manifest", apply.ErrConflictMayResolve, other.Key(), self.Key(),
			workv1alpha1.ConflictResolutionAnnotation, workv1alpha1.ConflictResolutionOverwrite)
	}
}

// claims reports whether work lists the object id.
func (c *Controller) claims(work *workv1alpha1.Work, id manifest.Identity) bool {
	want := c.scopeID(id).Key()
	for _, m := range manifest.DecodeWork(work) {
		if m.Usable() && c.scopeID(m.ID).Key() == want {
			return true
		}
	}
	return false
}

// overwriteAllowed allows applying over an object that is not managed for
// a Work of this cluster only when the manifest asks for it; the refusal
// says what to do.
func overwriteAllowed(desired *unstructured.Unstructured) error {
	if desired.GetAnnotations()[workv1alpha1.ConflictResolutionAnnotation] == workv1alpha1.ConflictResolutionOverwrite {
		return nil
	}
	how := "has no " + workv1alpha1.ConflictResolutionAnnotation + " annotation"
	if v, ok := desired.GetAnnotations()[workv1alpha1.ConflictResolutionAnnotation]; ok {
		how = fmt.Sprintf("sets %s=%q", workv1alpha1.ConflictResolutionAnnotation, v)
	}
	return fmt.Errorf("it already exists in the member cluster and is not managed by Karmada for a Work of this cluster, and the manifest %s; "+
		"set the annotation %s=%s on the manifest to take it over, or remove the existing object",
		how, workv1alpha1.ConflictResolutionAnnotation, workv1alpha1.ConflictResolutionOverwrite)
}

// markDuplicates fails every manifest that names an object an earlier
// manifest of the same Work names.
func markDuplicates(ms []manifest.Manifest) {
	first := map[manifest.Key]int{}
	for i := range ms {
		m := &ms[i]
		if m.Object == nil {
			continue
		}
		k := m.ID.Key()
		if j, seen := first[k]; seen {
			m.Fail(fmt.Errorf("%s: manifest %d names the same object as manifest %d; a Work lists each object once: %w",
				m.ID, m.Ordinal, j, errDuplicate))
			continue
		}
		first[k] = m.Ordinal
	}
}

var errDuplicate = errors.New("duplicate manifest")
