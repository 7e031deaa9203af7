package execution

import (
	"context"
	"io"
	"net/http"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/test/testenv"
)

// slowWatch delays every read of a watch stream: a member watch that lags
// behind the apiserver, as over a slow link.
type slowWatch struct {
	next  http.RoundTripper
	delay time.Duration
}

func (s slowWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(r)
	if err == nil && r.URL.Query().Get("watch") == "true" {
		resp.Body = &slowBody{ReadCloser: resp.Body, delay: s.delay}
	}
	return resp, err
}

type slowBody struct {
	io.ReadCloser
	delay time.Duration
}

func (b *slowBody) Read(p []byte) (int, error) {
	time.Sleep(b.delay) // the injected lag
	return b.ReadCloser.Read(p)
}

// TestCacheLagLeavesNoOrphan: a manifest added and removed again before the
// member watch has seen its object. Garbage collection must not take the
// cache's word that the object is gone.
func TestCacheLagLeavesNoOrphan(t *testing.T) {
	const cluster = "lag"
	es := workv1alpha1.ExecutionNamespace(cluster)
	memberNamespace(t, 1, "lag")
	cms := memberClient(t, 1).CoreV1().ConfigMaps("lag")
	a := startAgent(t, cluster, 1, func(c *Config) {
		cfg := rest.CopyConfig(testenv.Require(t).Members[1].Config)
		cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return slowWatch{next: rt, delay: 3 * time.Second} })
		c.MemberDynamic = dynamic.NewForConfigOrDie(cfg)
	})
	defer a.stop(t)
	createWork(t, newWork(cluster, "lag", manifests(t, configMap("lag", "a", map[string]string{"k": "v"}))))
	waitApplied(t, es, "lag", metav1.ConditionTrue)
	updateWork(t, es, "lag", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = manifests(t, configMap("lag", "a", map[string]string{"k": "v"}), configMap("lag", "b", map[string]string{"k": "v"}))
	})
	testenv.Eventually(t, time.Minute, "b is created", func() (bool, error) {
		ctx := context.Background()
		_, err := cms.Get(ctx, "b", metav1.GetOptions{})
		return err == nil, nil
	})
	updateWork(t, es, "lag", func(w *workv1alpha1.Work) {
		w.Spec.Workload.Manifests = manifests(t, configMap("lag", "a", map[string]string{"k": "v"}))
	})
	testenv.Eventually(t, time.Minute, "b, removed from the Work, is deleted", func() (bool, error) {
		ctx := context.Background()
		_, err := cms.Get(ctx, "b", metav1.GetOptions{})
		return apierrors.IsNotFound(err), nil
	})
	deleteWorkAndWait(t, es, "lag", cms, "a")
}
