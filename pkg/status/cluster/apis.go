package cluster

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
)

// aggregatedDiscovery asks for the whole of /api or /apis in one document.
const aggregatedDiscovery = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

// apiSet is status.apiEnablements and its CompleteAPIEnablements condition.
type apiSet struct {
	enablements []clusterv1alpha1.APIEnablement
	condition   metav1.Condition
}

// apiCollector reads the member's API enablements from aggregated discovery
// with conditional requests: each collection sends If-None-Match with the
// ETags of the last /api and /apis documents, and the enablements are
// recomputed only when one of them changed (a 304 costs no body and no
// work). A member without aggregated discovery (before Kubernetes 1.26) is
// read with classic discovery on every collection.
type apiCollector struct {
	http    *http.Client
	urls    [2]string // /api, /apis
	classic discovery.DiscoveryInterface

	etags  [2]string
	groups [2][]apidiscoveryv2.APIGroupDiscovery
	// last is what the documents held when last computed; stale says a
	// document changed since.
	last  *apiSet
	stale bool
}

func newAPICollector(member kubernetes.Interface) *apiCollector {
	a := &apiCollector{classic: member.Discovery()}
	if rc, ok := member.Discovery().RESTClient().(*rest.RESTClient); ok && rc != nil && rc.Client != nil {
		a.http = rc.Client
		for i, path := range []string{"/api", "/apis"} {
			a.urls[i] = rc.Get().AbsPath(path).URL().String()
		}
	}
	return a
}

// collect returns the current API enablements.
func (a *apiCollector) collect(ctx context.Context) (*apiSet, error) {
	if a.http == nil {
		return a.collectClassic()
	}
	for i := range a.urls {
		groups, etag, err := a.fetch(ctx, a.urls[i], a.etags[i])
		if errors.Is(err, errNoAggregatedDiscovery) {
			a.http = nil
			return a.collectClassic()
		}
		if err != nil {
			return nil, err
		}
		if groups != nil {
			a.groups[i], a.etags[i], a.stale = groups, etag, true
		}
	}
	if a.stale || a.last == nil {
		a.last, a.stale = fromAggregated(slices.Concat(a.groups[0], a.groups[1])), false
	}
	return a.last, nil
}

var errNoAggregatedDiscovery = errors.New("the member does not serve aggregated discovery")

// fetch GETs one discovery document; it returns nil groups when the
// document is unchanged since etag.
func (a *apiCollector) fetch(ctx context.Context, url, etag string) ([]apidiscoveryv2.APIGroupDiscovery, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", aggregatedDiscovery+",application/json")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return nil, "", fmt.Errorf("discovery %s: %w", url, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotModified:
		return nil, "", nil
	case resp.StatusCode != http.StatusOK:
		return nil, "", fmt.Errorf("discovery %s: %s", url, resp.Status)
	case !strings.Contains(resp.Header.Get("Content-Type"), "as=APIGroupDiscoveryList"):
		return nil, "", errNoAggregatedDiscovery
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, "", fmt.Errorf("discovery %s: %w", url, err)
	}
	var doc apidiscoveryv2.APIGroupDiscoveryList
	if err := json.Unmarshal(body, &doc); err != nil {
		return nil, "", fmt.Errorf("discovery %s: %w", url, err)
	}
	if doc.Items == nil {
		doc.Items = []apidiscoveryv2.APIGroupDiscovery{}
	}
	return doc.Items, resp.Header.Get("ETag"), nil
}

// fromAggregated builds the enablements; a stale group version (an
// aggregated API the apiserver could not reach) makes them Partial.
func fromAggregated(groups []apidiscoveryv2.APIGroupDiscovery) *apiSet {
	var out []clusterv1alpha1.APIEnablement
	stale := false
	for _, g := range groups {
		for _, v := range g.Versions {
			if v.Freshness == apidiscoveryv2.DiscoveryFreshnessStale {
				stale = true
				continue
			}
			e := clusterv1alpha1.APIEnablement{GroupVersion: groupVersion(g.Name, v.Version)}
			for _, r := range v.Resources {
				kind := ""
				if r.ResponseKind != nil {
					kind = r.ResponseKind.Kind
				}
				e.Resources = append(e.Resources, clusterv1alpha1.APIResource{Name: r.Resource, Kind: kind})
			}
			out = append(out, e)
		}
	}
	return newAPISet(out, stale)
}

// collectClassic reads discovery group by group.
func (a *apiCollector) collectClassic() (*apiSet, error) {
	_, lists, err := a.classic.ServerGroupsAndResources()
	if len(lists) == 0 && err != nil {
		return nil, fmt.Errorf("discovery: %w", err)
	}
	var out []clusterv1alpha1.APIEnablement
	for _, l := range lists {
		e := clusterv1alpha1.APIEnablement{GroupVersion: l.GroupVersion}
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") { // subresources are not APIs
				e.Resources = append(e.Resources, clusterv1alpha1.APIResource{Name: r.Name, Kind: r.Kind})
			}
		}
		out = append(out, e)
	}
	return newAPISet(out, err != nil), nil
}

// newAPISet sorts the enablements as Karmada does and sets the condition.
func newAPISet(enablements []clusterv1alpha1.APIEnablement, partial bool) *apiSet {
	for _, e := range enablements {
		slices.SortStableFunc(e.Resources, func(a, b clusterv1alpha1.APIResource) int { return cmp.Compare(a.Name, b.Name) })
	}
	slices.SortStableFunc(enablements, func(a, b clusterv1alpha1.APIEnablement) int { return cmp.Compare(a.GroupVersion, b.GroupVersion) })
	c := metav1.Condition{Type: clusterv1alpha1.ClusterConditionCompleteAPIEnablements}
	switch {
	case len(enablements) == 0:
		c.Status, c.Reason, c.Message = metav1.ConditionFalse, clusterv1alpha1.ReasonAPIEnablementsEmpty, clusterv1alpha1.MessageAPIEnablementsEmpty
	case partial:
		c.Status, c.Reason = metav1.ConditionFalse, clusterv1alpha1.ReasonAPIEnablementsPartial
		c.Message = fmt.Sprintf(clusterv1alpha1.MessageAPIEnablementsPartialFormat, len(enablements))
	default:
		c.Status, c.Reason, c.Message = metav1.ConditionTrue, clusterv1alpha1.ReasonAPIEnablementsComplete, clusterv1alpha1.MessageAPIEnablementsComplete
	}
	return &apiSet{enablements: enablements, condition: c}
}

func groupVersion(group, version string) string {
	if group == "" {
		return version
	}
	return group + "/" + version
}
