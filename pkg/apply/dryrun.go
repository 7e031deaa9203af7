package apply

import (
	"context"
	"fmt"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
)

// DryRun is what an apply of one object would do, as the member's apiserver
// computed it without a write.
type DryRun struct {
	Subject string
	GVR     schema.GroupVersionResource
	// Live is the object as it is now; nil when it does not exist.
	Live *unstructured.Unstructured
	// Result is the apiserver's answer to the dry-run apply: the object as
	// the apply would leave it, with the field manager's managedFields entry.
	Result *unstructured.Unstructured
}

// DryRunOne applies obj as a server-side dry run (dryRun=All) under the
// engine's field manager with force, as ApplyOne applies it, after the same
// retention (retain-replicas, the Retain customization). It reads the live
// object with a GET, never from the cache, and writes nothing: an ownership
// move from a legacy manager (a managedFields patch ApplyOne would send
// first) is left out. prepare, if not nil, adjusts the object to apply once
// the live object is known (nil when it does not exist). Errors name the
// object.
func (a *Applier) DryRunOne(ctx context.Context, obj *unstructured.Unstructured, prepare func(desired, live *unstructured.Unstructured)) (DryRun, error) {
	desired := normalize(obj)
	d := DryRun{Subject: Subject(desired)}
	mapping, err := a.Mapping(desired)
	if err != nil {
		return d, err
	}
	d.GVR = mapping.Resource
	desired.SetNamespace(manifest.IdentityOf(desired).Scoped(member.Namespaced(mapping)).Namespace)
	if d.Live, err = a.get(ctx, d.GVR, desired, ""); err != nil {
		return d, classify(d.Subject, err)
	}
	if prepare != nil {
		prepare(desired, d.Live)
	}
	if d.Live != nil {
		a.keepRetainedReplicas(desired, d.Live)
		if desired, err = a.retained(desired, d.Live); err != nil {
			return d, fmt.Errorf("%s: %w", d.Subject, err)
		}
	}
	a.stats.dryRuns.Add(1)
	d.Result, err = a.resource(d.GVR, desired.GetNamespace()).Apply(ctx, desired.GetName(), desired,
		metav1.ApplyOptions{FieldManager: a.fieldManager, Force: true, DryRun: []string{metav1.DryRunAll}})
	if err != nil {
		return d, classify(d.Subject, err)
	}
	return d, nil
}
