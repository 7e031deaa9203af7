package status

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	statuscluster "github.com/tether-io/tether/pkg/status/cluster"
	"github.com/tether-io/tether/test/testenv"
)

// isDiscovery reports whether a request path is a discovery document:
// /api, /apis, or a group version (/api/v1, /apis/<group>/<version>).
func isDiscovery(path string) bool {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	switch {
	case parts[0] == "api":
		return len(parts) <= 2
	case parts[0] == "apis":
		return len(parts) == 1 || len(parts) == 3
	}
	return false
}

// TestAPIEnablementsAreRecomputedOnlyWhenDiscoveryChanges counts the
// agent's member requests: while nothing changes every collection sends
// /api and /apis with If-None-Match and gets 304, fetches no group, and
// writes nothing to the hub; a new CRD changes the document, and the status.
func TestAPIEnablementsAreRecomputedOnlyWhenDiscoveryChanges(t *testing.T) {
	const interval = 500 * time.Millisecond
	env := testenv.Require(t)
	a := newAgent(t, "discovery")
	a.join(t)
	a.runStatus(t, statuscluster.StatusConfig{Interval: interval})
	waitCluster(t, a.name, time.Minute, "report complete API enablements", func(c *clusterv1alpha1.Cluster) bool {
		cond := findCondition(c, clusterv1alpha1.ClusterConditionCompleteAPIEnablements)
		return cond != nil && cond.Status == metav1.ConditionTrue && hasAPI(c, "apps/v1", "deployments", "Deployment") && c.Status.ResourceSummary != nil
	})

	a.waitHubQuiet(t, 5*time.Second, 2*time.Minute)
	quiet := time.Now()
	observe(t, 8*interval, "quiet member", func() error { return nil })
	var discovery []testenv.Request
	for _, r := range a.memberLog.Requests(since(quiet, "/")) {
		if isDiscovery(r.Path) {
			discovery = append(discovery, r)
		}
	}
	if len(discovery) < 8 {
		t.Fatalf("%d discovery requests in %s, want at least 2 per collection", len(discovery), 8*interval)
	}
	for _, r := range discovery {
		if (r.Path != "/api" && r.Path != "/apis") || r.Code != http.StatusNotModified {
			t.Fatalf("unchanged discovery: request %s %s answered %d, want only 304s for /api and /apis", r.Method, r.Path, r.Code)
		}
	}
	for _, r := range a.hubLog.Requests(since(quiet, "/")) {
		if r.Method != http.MethodGet {
			t.Errorf("hub request %s %s while nothing changed", r.Method, r.Path)
		}
	}

	crds := apiextensionsclient.NewForConfigOrDie(env.Members[0].Config).ApiextensionsV1().CustomResourceDefinitions()
	crd := &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.discovery.tether.io"},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: "discovery.tether.io", Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "widget", Kind: "Widget", ListKind: "WidgetList"},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{Name: "v1", Served: true, Storage: true,
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{Type: "object", XPreserveUnknownFields: ptrTrue()}}}},
		},
	}
	changed := time.Now()
	_, err := crds.Create(context.Background(), crd, metav1.CreateOptions{})
	testenv.NoError(t, err)
	t.Cleanup(func() { _ = crds.Delete(context.Background(), crd.Name, metav1.DeleteOptions{}) })
	waitCluster(t, a.name, time.Minute, "report the new CRD", func(c *clusterv1alpha1.Cluster) bool {
		return hasAPI(c, "discovery.tether.io/v1", "widgets", "Widget")
	})
	fetched := false
	for _, r := range a.memberLog.Requests(since(changed, "/apis")) {
		fetched = fetched || (r.Path == "/apis" && r.Code == http.StatusOK)
	}
	if !fetched {
		t.Error("the changed /apis document was not fetched with a 200")
	}
}

func ptrTrue() *bool { b := true; return &b }
