package hub

import (
	"context"
	"fmt"
	"time"

	certificatesv1 "k8s.io/api/certificates/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/klog/v2"
)

// Run watches CSRs of signer kubernetes.io/kube-apiserver-client and acts
// on each new or changed one until ctx ends. One worker decides at a time,
// so two registrations cannot claim the same cluster at once.
func (a *Approver) Run(ctx context.Context) error {
	logger := klog.FromContext(ctx).WithName("csr-approver")
	ctx = klog.NewContext(ctx, logger)
	factory := informers.NewSharedInformerFactoryWithOptions(a.kube, 0, informers.WithTweakListOptions(func(o *metav1.ListOptions) {
		o.FieldSelector = fields.OneTermEqualSelector("spec.signerName", certificatesv1.KubeAPIServerClientSignerName).String()
	}))
	informer := factory.Certificates().V1().CertificateSigningRequests()
	queue := workqueue.NewTypedRateLimitingQueueWithConfig(workqueue.DefaultTypedControllerRateLimiter[string](),
		workqueue.TypedRateLimitingQueueConfig[string]{Name: "tether-csr-approver"})
	defer queue.ShutDown()
	enqueue := func(obj any) {
		if csr, ok := obj.(*certificatesv1.CertificateSigningRequest); ok && len(csr.Status.Certificate) == 0 && !decided(csr) {
			queue.Add(csr.Name)
		}
	}
	if _, err := informer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    enqueue,
		UpdateFunc: func(_, obj any) { enqueue(obj) },
	}); err != nil {
		return err
	}
	factory.Start(ctx.Done())
	defer factory.Shutdown()
	if !cache.WaitForCacheSync(ctx.Done(), informer.Informer().HasSynced) {
		return fmt.Errorf("CSR informer did not sync: %w", ctx.Err())
	}
	logger.Info("Approving Karmada agent certificate requests")
	go func() {
		<-ctx.Done()
		queue.ShutDown()
	}()
	for a.next(ctx, queue, informer.Lister().Get) {
	}
	return nil
}

func (a *Approver) next(ctx context.Context, queue workqueue.TypedRateLimitingInterface[string],
	get func(string) (*certificatesv1.CertificateSigningRequest, error)) bool {
	name, shutdown := queue.Get()
	if shutdown {
		return false
	}
	defer queue.Done(name)
	csr, err := get(name)
	if err != nil { // deleted meanwhile
		queue.Forget(name)
		return true
	}
	d, err := a.Decide(ctx, csr)
	if err == nil {
		err = a.Act(ctx, csr, d)
	}
	if err != nil {
		klog.FromContext(ctx).Error(err, "Deciding on a CSR failed; retrying", "csr", name)
		queue.AddRateLimited(name)
		return true
	}
	queue.Forget(name)
	if d.Verdict == Pending {
		// The requester may be granted the RBAC later; look again.
		queue.AddAfter(name, 30*time.Second)
	}
	return true
}
