package agent

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"

	"github.com/tether-io/tether/pkg/status/cluster"
)

func fastBackoff() wait.Backoff {
	return wait.Backoff{Duration: time.Millisecond, Factor: 2, Jitter: 0.5, Cap: 5 * time.Millisecond, Steps: 1 << 30}
}

// The join is retried through transient and operator-fixable errors until
// it succeeds, and readiness says why it is not ready meanwhile.
func TestJoinIsRetriedUntilItSucceeds(t *testing.T) {
	gr := schema.GroupResource{Group: "cluster.karmada.io", Resource: "clusters"}
	failures := []error{
		errors.New(`Get "https://hub:6443/apis": dial tcp 10.0.0.1:6443: connect: connection refused`),
		apierrors.NewServiceUnavailable("etcd is unhappy"),
		apierrors.NewTooManyRequests("slow down", 1),
		apierrors.NewTimeoutError("request timed out", 1),
		apierrors.NewForbidden(gr, "m1", errors.New("RBAC: not allowed")),
		&cluster.ClashError{Field: "id", Name: "m1", ID: "uid-1", Holder: "m0", HolderID: "uid-1"},
	}
	state := &joinState{}
	h := newHealth()
	h.setLive()
	h.addReady("join", state.check)
	srv := httptest.NewServer(h.handler())
	defer srv.Close()
	calls := 0
	var readyz []string
	res, err := joinUntilDone(context.Background(), fastBackoff(), state, func(context.Context) (*cluster.JoinResult, error) {
		readyz = append(readyz, probe(t, srv.URL+"/readyz"))
		if calls < len(failures) {
			calls++
			return nil, failures[calls-1]
		}
		return &cluster.JoinResult{Created: true}, nil
	})
	if err != nil || res == nil || !res.Created {
		t.Fatalf("joinUntilDone: %v, %+v", err, res)
	}
	if calls != len(failures) {
		t.Fatalf("%d failed attempts, want %d", calls, len(failures))
	}
	if !strings.HasPrefix(readyz[0], "503 join: joining the hub") {
		t.Errorf("/readyz before the first attempt: %q", readyz[0])
	}
	if !strings.Contains(readyz[2], "503 join: not joined to the hub yet (2 attempts failed)") || !strings.Contains(readyz[2], "etcd is unhappy") {
		t.Errorf("/readyz after two failures: %q, want the last error", readyz[2])
	}
	state.succeed()
	if got := probe(t, srv.URL+"/readyz"); got != "200 ok" {
		t.Errorf("/readyz after the join: %q", got)
	}
}

func TestJoinRetriesEndWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	_, err := joinUntilDone(ctx, fastBackoff(), &joinState{}, func(context.Context) (*cluster.JoinResult, error) {
		if calls++; calls == 3 {
			cancel()
		}
		return nil, errors.New("hub unreachable")
	})
	if !errors.Is(err, context.Canceled) || calls != 3 {
		t.Fatalf("err=%v after %d calls, want context.Canceled after 3", err, calls)
	}
}

// The delays grow, are jittered, and stay within 30 s.
func TestJoinBackoffIsCapped(t *testing.T) {
	delay := joinBackoff().DelayFunc()
	var prev time.Duration
	distinct := map[time.Duration]bool{}
	for i := range 40 {
		d := delay()
		if d > 30*time.Second || d < time.Second {
			t.Fatalf("delay %d is %s, want between 1s and 30s", i, d)
		}
		if i < 3 && d < prev/2 {
			t.Errorf("delay %d (%s) shrank from %s", i, d, prev)
		}
		if i >= 10 {
			distinct[d] = true
			if d < 20*time.Second {
				t.Errorf("delay %d is %s; once capped it should be 20-30s", i, d)
			}
		}
		prev = d
	}
	if len(distinct) < 2 {
		t.Error("capped delays are not jittered")
	}
}

func TestOperatorHints(t *testing.T) {
	gr := schema.GroupResource{Group: "cluster.karmada.io", Resource: "clusters"}
	for _, tc := range []struct {
		err  error
		hint bool
	}{
		{apierrors.NewForbidden(gr, "m1", errors.New("no")), true},
		{apierrors.NewUnauthorized("certificate expired"), true},
		{&cluster.ClashError{Field: "name", Name: "m1"}, true},
		{apierrors.NewServiceUnavailable("down"), false},
		{errors.New("connection refused"), false},
	} {
		if got := operatorHint(tc.err) != ""; got != tc.hint {
			t.Errorf("%v: hint %v, want %v", tc.err, got, tc.hint)
		}
	}
}

func probe(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(resp.Status[:3] + " " + string(body))
}
