package execution

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/manifest"
	"github.com/tether-io/tether/pkg/member"
	"github.com/tether-io/tether/test/testenv"
)

// deployment returns a Deployment manifest running image.
func deployment(ns, name, image string) string {
	return fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":%q,"namespace":%q},
"spec":{"replicas":1,"selector":{"matchLabels":{"app":%q}},"template":{"metadata":{"labels":{"app":%q}},
"spec":{"containers":[{"name":"c","image":%q}]}}}}`, name, ns, name, name, image)
}

// objectRequests counts, by verb, the requests rec saw for one named
// object ("PATCH" real writes, "PATCH(dry)" dry runs), leaving out lists
// and watches of its kind.
func objectRequests(rec *testenv.Recorder, resource, ns, name string) map[string]int {
	suffix := "/namespaces/" + ns + "/" + resource + "/" + name
	out := map[string]int{}
	for _, r := range rec.Requests(func(r testenv.Request) bool { return strings.HasSuffix(r.Path, suffix) }) {
		verb := r.Method
		if r.DryRun {
			verb += "(dry)"
		}
		out[verb]++
	}
	return out
}

// TestMemberRequestsPerChange counts the member requests one Deployment
// costs for each class of change, through the whole controller: a new
// object, an image change through the Work, a re-sync of a Work whose
// object is unchanged, and the report and repair of drift made in the member.
func TestMemberRequestsPerChange(t *testing.T) {
	a := startAgent(t, "requests", 1, nil)
	defer a.stop(t)
	const ns, work = "requests", "req"
	es := workv1alpha1.ExecutionNamespace("requests")
	memberNamespace(t, 1, ns)
	ctx := context.Background()
	deploys := memberClient(t, 1).AppsV1().Deployments(ns)

	// Warm up: the Deployment informer runs and has synced before the
	// measured Work, as it has in an agent that runs for a while.
	createWork(t, newWork("requests", "warm", manifests(t, deployment(ns, "warm", "nginx:1"))))
	waitApplied(t, es, "warm", metav1.ConditionTrue)
	testenv.Eventually(t, 30*time.Second, "the agent's cache has the warm-up Deployment", func() (bool, error) {
		id := manifest.Identity{Group: "apps", Version: "v1", Kind: "Deployment", Namespace: ns, Name: "warm"}
		return a.ctrl.member.Live(id).State == member.Present, nil
	})

	measure := func(class string, want map[string]int, change func(), done func() bool) {
		t.Helper()
		a.member.Reset()
		change()
		testenv.Eventually(t, time.Minute, class+" done", func() (bool, error) { return done(), nil })
		got := objectRequests(a.member, "deployments", ns, "d")
		t.Logf("member requests for %s: %v", class, got)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: member requests %v, want %v", class, got, want)
		}
	}
	image := func(want string) func() bool {
		return func() bool {
			d, err := deploys.Get(ctx, "d", metav1.GetOptions{})
			return err == nil && d.Spec.Template.Spec.Containers[0].Image == want
		}
	}
	applied := func() bool {
		w, err := hubClient(t).WorkV1alpha1().Works(es).Get(ctx, work, metav1.GetOptions{})
		if err != nil {
			return false
		}
		c := meta.FindStatusCondition(w.Status.Conditions, workv1alpha1.WorkApplied)
		return c != nil && c.Status == metav1.ConditionTrue && c.ObservedGeneration == w.Generation
	}

	measure("a new object", map[string]int{"PATCH": 1}, func() {
		createWork(t, newWork("requests", work, manifests(t, deployment(ns, "d", "nginx:1"))))
	}, func() bool { return image("nginx:1")() && applied() })

	measure("an image change", map[string]int{"PATCH": 1}, func() {
		updateWork(t, es, work, func(w *workv1alpha1.Work) {
			w.Spec.Workload.Manifests = manifests(t, deployment(ns, "d", "nginx:2"))
		})
	}, func() bool { return image("nginx:2")() && applied() })

	measure("an unchanged object in a changed Work", map[string]int{}, func() {
		updateWork(t, es, work, func(w *workv1alpha1.Work) {
			w.Spec.Workload.Manifests = manifests(t, deployment(ns, "d", "nginx:2"), configMap(ns, "extra", map[string]string{"k": "v"}))
		})
	}, applied)

	// Drift costs one read more than a hub change: the managedFields that
	// name who made the change (the cache drops them), once per episode.
	measure("drift repair", map[string]int{"GET": 1, "PATCH": 1}, func() {
		d, err := deploys.Get(ctx, "d", metav1.GetOptions{})
		must(t, err)
		d.Spec.Template.Spec.Containers[0].Image = "tampered:1"
		_, err = deploys.Update(ctx, d, metav1.UpdateOptions{FieldManager: "someone"})
		must(t, err)
	}, func() bool {
		d, err := deploys.Get(ctx, "d", metav1.GetOptions{})
		return err == nil && d.Spec.Template.Spec.Containers[0].Image == "nginx:2" && d.Generation > 2
	})
}
