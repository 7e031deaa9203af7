package hubconn

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// probeTimeout bounds one probe.
const probeTimeout = 5 * time.Second

// readyzURL is the hub's /readyz: under base when it is known, else on the
// scheme and host of u.
func readyzURL(base, u *url.URL) string {
	if base != nil {
		t := *base
		t.Path = strings.TrimSuffix(t.Path, "/") + "/readyz"
		t.RawPath, t.RawQuery, t.Fragment = "", "", ""
		return t.String()
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/readyz"}).String()
}

// probe asks the hub whether it is ready to serve: GET /readyz, which
// kube-apiserver answers 200 only once its post-start hooks and informers
// are ready. Before its authorizer is ready it answers 403 to /readyz as to
// everything else, so only a 2xx is ready; a 404 is too (a hub that does
// not serve /readyz is answering requests). answered is whether an HTTP
// answer came back at all.
func probe(ctx context.Context, rt http.RoundTripper, target string) (answered, ready bool) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return false, false
	}
	req.Header.Set("User-Agent", "tether-agent")
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return false, false
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
	return true, resp.StatusCode/100 == 2 || resp.StatusCode == http.StatusNotFound
}
