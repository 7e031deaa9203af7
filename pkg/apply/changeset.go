package apply

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-io/tether/pkg/drift"
)

// Action is what the engine did, or would do, with one object.
type Action string

const (
	// Created means the object did not exist and was created.
	Created Action = "created"
	// Configured means the object existed and the apply changed it.
	Configured Action = "configured"
	// Unchanged means the object already matched; nothing was written.
	Unchanged Action = "unchanged"
	// Deleted means the object was deleted.
	Deleted Action = "deleted"
	// Failed means the object could not be applied; Entry.Err says why.
	Failed Action = "failed"
)

// Entry is the outcome for one object.
type Entry struct {
	// Index is the object's position in the input.
	Index int
	// Subject names the object: Kind/namespace/name or Kind/name.
	Subject string
	GVR     schema.GroupVersionResource
	Action  Action
	// Object is the object as the server returned it (nil when unchanged or failed).
	Object *unstructured.Unstructured
	// DecidedBy says how an Unchanged verdict was reached: "fieldset" (managedFields
	// and values compared locally), "dryrun" (a server-side dry run), or
	// "drift-mode report" (drift left as it is, see Drift).
	DecidedBy string
	// OwnershipMoved says the fields a legacy manager owned by Update were
	// moved to the engine's Apply entry first (a managedFields-only write;
	// in a dry run, one that would be sent). See OwnershipPatch.
	OwnershipMoved bool
	// Drift is the drift found on the object before it was applied: set
	// when the live object was applied from the same manifest (see
	// drift.DigestAnnotation) and differs from it; nil otherwise.
	Drift *drift.Finding
	Err   error
}

// ChangeSet lists the outcome for each input object, in input order.
type ChangeSet []Entry

// Failed returns the entries that failed.
func (c ChangeSet) Failed() []Entry {
	var out []Entry
	for _, e := range c {
		if e.Action == Failed {
			out = append(out, e)
		}
	}
	return out
}

// Subject formats Kind/namespace/name (Kind/name for cluster-scoped objects).
func Subject(obj *unstructured.Unstructured) string {
	if ns := obj.GetNamespace(); ns != "" {
		return fmt.Sprintf("%s/%s/%s", obj.GetKind(), ns, obj.GetName())
	}
	return fmt.Sprintf("%s/%s", obj.GetKind(), obj.GetName())
}
