package credentials

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
	testingclock "k8s.io/utils/clock/testing"
)

func TestRefreshAtIsEightyPercentOfTheLifetime(t *testing.T) {
	issued := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tok := Tokens{Issued: issued, Expiry: issued.Add(10 * time.Hour)}
	r := &Refresher{}
	if got, want := r.RefreshAt(tok), issued.Add(8*time.Hour); !got.Equal(want) {
		t.Errorf("RefreshAt = %s, want %s", got, want)
	}
	r.cfg.RefreshAfter = time.Minute
	if got, want := r.RefreshAt(tok), issued.Add(time.Minute); !got.Equal(want) {
		t.Errorf("RefreshAt with RefreshAfter = %s, want %s", got, want)
	}
}

func TestTokensPrintRedacted(t *testing.T) {
	tok := Tokens{CABundle: []byte("ca-secret"), Credentials: []byte("cred-secret"), Impersonator: []byte("imp-secret")}
	var logged string
	log := funcr.New(func(prefix, args string) { logged += args }, funcr.Options{})
	log.Info("x", "tokens", tok)
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s", tok, tok, tok, tok), logged} {
		for _, secret := range []string{"cred-secret", "imp-secret", "ca-secret"} {
			if strings.Contains(s, secret) {
				t.Errorf("printed tokens hold %q: %s", secret, s)
			}
		}
	}
}

// tokenServer answers TokenRequests with numbered tokens, each valid for
// the lifetime asked, or fails them while failing is set.
func tokenServer(cs *fake.Clientset, clock *testingclock.FakeClock, failing *bool) *int {
	n := 0
	cs.PrependReactor("create", "serviceaccounts", func(a clienttesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		if *failing {
			return true, nil, errors.New("the member apiserver is away")
		}
		req := a.(clienttesting.CreateAction).GetObject().(*authenticationv1.TokenRequest).DeepCopy()
		n++
		req.Status = authenticationv1.TokenRequestStatus{Token: fmt.Sprintf("token-%d", n),
			ExpirationTimestamp: metav1.NewTime(clock.Now().Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second))}
		return true, req, nil
	})
	return &n
}

// Refresh requests tokens only when due, retries an upload with the
// tokens it has, and replaces them at 80 % of their lifetime.
func TestRefreshRequestsTokensOnlyWhenDue(t *testing.T) {
	ctx := context.Background()
	clock := testingclock.NewFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	cs := fake.NewClientset()
	failing := false
	issued := tokenServer(cs, clock, &failing)
	var uploads []Tokens
	uploadErr := error(nil)
	r, err := NewRefresher(Config{Cluster: "m1", Namespace: "karmada-cluster", Member: cs, Report: Report{Credentials: true, Impersonator: true},
		Lifetime: 10 * time.Hour, Clock: clock, Upload: func(_ context.Context, t Tokens) error {
			uploads = append(uploads, t)
			return uploadErr
		}})
	if err != nil {
		t.Fatal(err)
	}
	next, err := r.Refresh(ctx)
	if err != nil || *issued != 2 || !next.Equal(clock.Now().Add(8*time.Hour)) {
		t.Fatalf("first refresh: next %s, %v, %d tokens issued", next, err, *issued)
	}
	if string(uploads[0].Credentials) != "token-1" || string(uploads[0].Impersonator) != "token-2" {
		t.Fatalf("uploaded %s", uploads[0])
	}
	uploadErr = errors.New("hub away")
	clock.Step(time.Hour)
	if _, err := r.Refresh(ctx); err == nil || *issued != 2 {
		t.Fatalf("an upload failure: %v, %d tokens issued (the current ones are not due)", err, *issued)
	}
	uploadErr = nil
	clock.Step(7 * time.Hour)
	if _, err := r.Refresh(ctx); err != nil || *issued != 4 || string(uploads[len(uploads)-1].Credentials) != "token-3" {
		t.Fatalf("at 80%%: %v, %d tokens issued, last upload %s", err, *issued, uploads[len(uploads)-1])
	}
	failing = true
	clock.Step(8 * time.Hour)
	if _, err := r.Refresh(ctx); err == nil || !strings.Contains(err.Error(), "karmada-cluster/karmada-m1") {
		t.Fatalf("a failed TokenRequest: %v, want an error naming the ServiceAccount", err)
	}
}

func TestNewRefresherRefusesAShortLifetime(t *testing.T) {
	_, err := NewRefresher(Config{Cluster: "m1", Namespace: "ns", Member: fake.NewClientset(), Report: Report{Credentials: true},
		Lifetime: time.Minute, Upload: func(context.Context, Tokens) error { return nil }})
	if err == nil || !strings.Contains(err.Error(), "10m0s") {
		t.Fatalf("a 1m lifetime: %v", err)
	}
}
