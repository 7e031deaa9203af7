package mcs

import (
	"context"
	"fmt"
	"sync"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	crdinformers "k8s.io/apiextensions-apiserver/pkg/client/informers/externalversions/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"
	mcsv1alpha1 "sigs.k8s.io/mcs-api/pkg/apis/v1alpha1"
	mcsclient "sigs.k8s.io/mcs-api/pkg/client/clientset/versioned"
	exportinformers "sigs.k8s.io/mcs-api/pkg/client/informers/externalversions/apis/v1alpha1"
	exportlisters "sigs.k8s.io/mcs-api/pkg/client/listers/apis/v1alpha1"
)

// exportCRD is the name of the ServiceExport CustomResourceDefinition.
var exportCRD = mcsv1alpha1.ServiceExportFullName

// exports follows the member's ServiceExports. The ServiceExport CRD may be
// missing: then nothing is exported, and exports watches the CRD (one watch
// of one object) and starts the ServiceExport informer once the CRD is
// established, stopping it again if the CRD is deleted.
type exports struct {
	client  mcsclient.Interface
	crds    cache.SharedIndexInformer
	changed chan struct{}
	// onExport is called with the Service of each export that appears or
	// goes, onReset when every export went with the CRD.
	onExport func(namespace, name string)
	onReset  func()

	mu     sync.RWMutex
	lister exportlisters.ServiceExportLister // nil while the CRD is not established
	stop   context.CancelFunc
}

func newExports(client mcsclient.Interface, crdClient apiextensionsclient.Interface, onExport func(string, string), onReset func()) (*exports, error) {
	e := &exports{client: client, changed: make(chan struct{}, 1), onExport: onExport, onReset: onReset}
	e.crds = crdinformers.NewFilteredCustomResourceDefinitionInformer(crdClient, 0, cache.Indexers{}, func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("metadata.name", exportCRD).String()
	})
	kick := func(any) { e.kick() }
	if _, err := e.crds.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: kick, DeleteFunc: kick,
		UpdateFunc: func(_, _ any) { e.kick() }}); err != nil {
		return nil, fmt.Errorf("watch the %s CRD: %w", exportCRD, err)
	}
	return e, nil
}

func (e *exports) kick() {
	select {
	case e.changed <- struct{}{}:
	default:
	}
}

// has reports whether ServiceExport namespace/name exists.
func (e *exports) has(namespace, name string) bool {
	e.mu.RLock()
	defer e.mu.RUnlock()
	if e.lister == nil {
		return false
	}
	_, err := e.lister.ServiceExports(namespace).Get(name)
	return err == nil
}

// start syncs the CRD cache and, if the CRD is established, the
// ServiceExport cache; it returns once both say what exists.
func (e *exports) start(ctx context.Context) error {
	go e.crds.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), e.crds.HasSynced) {
		return ctx.Err()
	}
	return e.follow(ctx, true)
}

// run follows changes of the CRD until ctx ends.
func (e *exports) run(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			e.mu.Lock()
			if e.stop != nil {
				e.stop()
			}
			e.mu.Unlock()
			return
		case <-e.changed:
			if err := e.follow(ctx, false); err != nil && ctx.Err() == nil {
				klog.FromContext(ctx).Error(err, "Following the ServiceExport CRD failed")
			}
		}
	}
}

// follow starts or stops the ServiceExport informer as the CRD is
// established or not; first says whether this is the start-up check.
func (e *exports) follow(ctx context.Context, first bool) error {
	log := klog.FromContext(ctx)
	established := e.established()
	e.mu.RLock()
	running := e.lister != nil
	e.mu.RUnlock()
	switch {
	case established && !running:
		return e.startInformer(ctx)
	case !established && running:
		e.mu.Lock()
		e.stop()
		e.lister, e.stop = nil, nil
		e.mu.Unlock()
		log.Info("The ServiceExport CRD is gone from the member; Works reported for ServiceExports are removed", "crd", exportCRD)
		e.onReset()
	case !established && first:
		log.Info("The ServiceExport CRD is not installed in the member; serviceExport waits for it (watching the CRD)", "crd", exportCRD)
	}
	return nil
}

// established reports whether the CRD is established and serves v1alpha1,
// the version karmada-agent reads.
func (e *exports) established() bool {
	obj, ok, err := e.crds.GetStore().GetByKey(exportCRD)
	if err != nil || !ok {
		return false
	}
	crd, ok := obj.(*apiextensionsv1.CustomResourceDefinition)
	if !ok {
		return false
	}
	served := false
	for _, v := range crd.Spec.Versions {
		served = served || (v.Name == mcsv1alpha1.SchemeGroupVersion.Version && v.Served)
	}
	for _, c := range crd.Status.Conditions {
		if c.Type == apiextensionsv1.Established && c.Status == apiextensionsv1.ConditionTrue {
			return served
		}
	}
	return false
}

// startInformer syncs a ServiceExport informer, publishes its lister, and
// only then registers the handler, so every export already there is
// announced (as an add) to reconciles that can see it.
func (e *exports) startInformer(ctx context.Context) error {
	ictx, stop := context.WithCancel(ctx)
	inf := exportinformers.NewServiceExportInformer(e.client, metav1.NamespaceAll, 0, cache.Indexers{})
	go inf.RunWithContext(ictx)
	if !cache.WaitForCacheSync(ictx.Done(), inf.HasSynced) {
		stop()
		return fmt.Errorf("sync the ServiceExport cache: %w", ctx.Err())
	}
	e.mu.Lock()
	e.lister, e.stop = exportlisters.NewServiceExportLister(inf.GetIndexer()), stop
	e.mu.Unlock()
	announce := func(obj any) {
		if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
			obj = d.Obj
		}
		if se, ok := obj.(*mcsv1alpha1.ServiceExport); ok {
			e.onExport(se.Namespace, se.Name)
		}
	}
	if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{AddFunc: announce, DeleteFunc: announce}); err != nil {
		return fmt.Errorf("watch ServiceExports: %w", err)
	}
	klog.FromContext(ctx).Info("Following the member's ServiceExports", "crd", exportCRD)
	return nil
}
