package interpreter

import (
	"context"
	"sync"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/tools/cache"
	"k8s.io/klog/v2"

	informers "github.com/tether-io/tether/pkg/generated/informers/externalversions"
	"github.com/tether-io/tether/pkg/hubaccess"
)

// transientRetry is how soon a list that failed for another reason than
// an absent or forbidden API is tried again.
const transientRetry = 5 * time.Second

// Run loads the hub's customizations and follows them until ctx ends. While
// the hub does not serve them or the identity may not read them, the
// built-in rules run alone; that is said once, and the API is tried again
// every Recheck.
func (i *Interpreter) Run(ctx context.Context) error {
	log := klog.FromContext(ctx).WithName("interpreter")
	i.setLogger(log)
	if i.cfg.Hub == nil {
		<-ctx.Done()
		return nil
	}
	if !i.cfg.Access.Can(hubaccess.ReadCustomizations) {
		log.Info("Resource interpreter customizations are not used: the hub identity may not list and watch them; the built-in rules run alone")
		<-ctx.Done()
		return nil
	}
	if !i.waitServed(ctx, log) {
		return nil
	}
	factory := informers.NewSharedInformerFactoryWithOptions(i.cfg.Hub, 0, informers.WithTransform(dropManagedFields))
	inf := factory.Config().V1alpha1().ResourceInterpreterCustomizations()
	lister := inf.Lister()
	var mu sync.Mutex // one load at a time, each from the latest cache
	synced := false
	reload := func() {
		mu.Lock()
		defer mu.Unlock()
		if !synced {
			return // the initial list loads once, after the sync
		}
		if all, err := lister.List(labels.Everything()); err == nil {
			i.Load(all)
		}
	}
	_, _ = inf.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(any) { reload() },
		UpdateFunc: func(any, any) { reload() },
		DeleteFunc: func(any) { reload() },
	})
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), inf.Informer().HasSynced) {
		return nil
	}
	mu.Lock()
	synced = true
	mu.Unlock()
	reload()
	all, _ := lister.List(labels.Everything())
	log.Info("Resource interpreter customizations loaded", "count", len(all))
	<-ctx.Done()
	return nil
}

// waitServed lists the customizations until the hub answers, and reports
// false when ctx ended first.
func (i *Interpreter) waitServed(ctx context.Context, log klog.Logger) bool {
	said := false
	for {
		_, err := i.cfg.Hub.ConfigV1alpha1().ResourceInterpreterCustomizations().List(ctx, metav1.ListOptions{Limit: 1})
		if err == nil {
			if said {
				log.Info("The hub now serves resource interpreter customizations; they are used from now on")
			}
			return true
		}
		retry := transientRetry
		switch {
		case ctx.Err() != nil:
			return false
		case apierrors.IsNotFound(err) || meta.IsNoMatchError(err):
			retry = i.cfg.Recheck
			if !said {
				log.Info("Resource interpreter customizations are not used: the hub does not serve resourceinterpretercustomizations.config.karmada.io "+
					"(its CustomResourceDefinition is not installed); the built-in rules run alone", "recheck", i.cfg.Recheck.String())
				said = true
			}
		case apierrors.IsForbidden(err):
			retry = i.cfg.Recheck
			if !said {
				log.Info("Resource interpreter customizations are not used: the hub identity may not list them; the built-in rules run alone",
					"recheck", i.cfg.Recheck.String())
				said = true
			}
		default:
			log.V(2).Info("Listing resource interpreter customizations failed; retrying", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(retry):
		}
	}
}

// dropManagedFields keeps the cache small; the scripts are all it reads.
func dropManagedFields(obj any) (any, error) {
	if m, err := meta.Accessor(obj); err == nil {
		m.SetManagedFields(nil)
	}
	return obj, nil
}
