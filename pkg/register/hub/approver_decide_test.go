package hub

import (
	"context"
	"crypto/x509/pkix"
	"strings"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	kubefake "k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/client-go/util/keyutil"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	testingclock "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	karmadafake "github.com/tether-io/tether/pkg/generated/clientset/versioned/fake"
)

var decideNow = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// hubState is what the hub holds for the decision table.
type hubState struct {
	tokens  map[string]string // token ID -> bound cluster ("" unbound)
	claims  map[string]string // cluster -> registering user
	leases  map[string]*coordinationv1.Lease
	allowed bool // the SubjectAccessReview's answer
}

func (h hubState) approver(t *testing.T) *Approver {
	t.Helper()
	var objs []runtime.Object
	for id, cluster := range h.tokens {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: bootstraputil.BootstrapTokenSecretName(id), Namespace: metav1.NamespaceSystem}}
		if cluster != "" {
			s.Annotations = map[string]string{TokenClusterAnnotation: cluster}
		}
		objs = append(objs, s)
	}
	for cluster, user := range h.claims {
		objs = append(objs, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: AgentRoleName(cluster), Annotations: map[string]string{ClaimAnnotation: user}}})
	}
	for _, l := range h.leases {
		objs = append(objs, l)
	}
	kube := kubefake.NewClientset(objs...)
	// The fake has no authorizer: the review answers what the case says.
	kube.PrependReactor("create", "subjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
		sar := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview).DeepCopy()
		sar.Status.Allowed = h.allowed
		return true, sar, nil
	})
	return NewApprover(kube, karmadafake.NewSimpleClientset(), nil, ClusterAccess{},
		WithMaxCertificateLifetime(24*time.Hour), WithClock(testingclock.NewFakePassiveClock(decideNow)))
}

func lease(cluster string, renewedAgo time.Duration, durationSeconds int32) *coordinationv1.Lease {
	l := &coordinationv1.Lease{ObjectMeta: metav1.ObjectMeta{Name: cluster, Namespace: clusterv1alpha1.LeaseNamespace}}
	l.Spec.LeaseDurationSeconds = ptr.To(durationSeconds)
	l.Spec.RenewTime = &metav1.MicroTime{Time: decideNow.Add(-renewedAgo)}
	return l
}

// agentCSR is cluster's agent CSR made by user (in groups), asking for
// secs seconds (nil: no lifetime).
func agentCSR(t *testing.T, cluster, user string, groups []string, secs *int32) *certificatesv1.CertificateSigningRequest {
	t.Helper()
	keyPEM, err := keyutil.MakeEllipticPrivateKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	key, err := keyutil.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	subject := bootstrap.AgentSubject(cluster)
	raw, err := certutil.MakeCSR(key, &pkix.Name{CommonName: subject.CommonName, Organization: subject.Organization}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &certificatesv1.CertificateSigningRequest{
		ObjectMeta: metav1.ObjectMeta{Name: "csr-" + cluster},
		Spec: certificatesv1.CertificateSigningRequestSpec{
			Request: raw, SignerName: certificatesv1.KubeAPIServerClientSignerName, Usages: bootstrap.AgentUsages,
			Username: user, Groups: groups, ExpirationSeconds: secs,
		},
	}
}

// TestDecideTokenScope is the approver's decision table for bootstrap
// requests (token binding, the cluster's Lease, the lifetime cap) and for
// renewals by the agent itself.
func TestDecideTokenScope(t *testing.T) {
	const day = int32(24 * 3600)
	bootUser := func(id string) string { return bootstrapapi.BootstrapUserPrefix + id }
	bootGroups := []string{bootstrapapi.BootstrapDefaultGroup, "system:authenticated"}
	agentGroups := []string{clusterv1alpha1.AgentGroup, "system:authenticated"}
	tokens := map[string]string{"unbnd1": "", "boundc": "c1"}
	for _, tc := range []struct {
		name    string
		hub     hubState
		cluster string
		user    string
		groups  []string
		secs    *int32
		want    Verdict
		msg     string // in the message
	}{
		{name: "unbound token, new cluster", cluster: "c2", user: bootUser("unbnd1"), want: Approve},
		{name: "bound token, its cluster", cluster: "c1", user: bootUser("boundc"), want: Approve},
		{name: "bound token, another cluster", cluster: "c2", user: bootUser("boundc"), want: Deny, msg: "bound to cluster c1, not c2"},
		{name: "deleted token", cluster: "c1", user: bootUser("gone00"), want: Deny, msg: "no longer exists"},
		{name: "requester lacks the RBAC", hub: hubState{allowed: false}, cluster: "c1", user: bootUser("boundc"), want: Pending},
		{name: "cluster claimed by another token", hub: hubState{claims: map[string]string{"c1": bootUser("unbnd1")}}, cluster: "c1", user: bootUser("boundc"),
			want: Deny, msg: "already registered by someone else"},
		{name: "re-issue while the Lease is fresh", hub: hubState{claims: map[string]string{"c1": bootUser("boundc")},
			leases: map[string]*coordinationv1.Lease{"c1": lease("c1", 10*time.Second, 40)}}, cluster: "c1", user: bootUser("boundc"),
			want: Deny, msg: "cluster c1's agent is alive"},
		{name: "unbound token re-issue while the Lease is fresh", hub: hubState{claims: map[string]string{"c1": bootUser("unbnd1")},
			leases: map[string]*coordinationv1.Lease{"c1": lease("c1", 10*time.Second, 40)}}, cluster: "c1", user: bootUser("unbnd1"),
			want: Deny, msg: "alive"},
		{name: "Lease stamped ahead of the approver's clock", hub: hubState{leases: map[string]*coordinationv1.Lease{"c1": lease("c1", -time.Minute, 40)}},
			cluster: "c1", user: bootUser("boundc"), want: Deny, msg: "alive"},
		{name: "re-issue after the Lease expired", hub: hubState{claims: map[string]string{"c1": bootUser("boundc")},
			leases: map[string]*coordinationv1.Lease{"c1": lease("c1", 41*time.Second, 40)}}, cluster: "c1", user: bootUser("boundc"), want: Approve},
		{name: "a longer Lease duration is honoured", hub: hubState{claims: map[string]string{"c1": bootUser("boundc")},
			leases: map[string]*coordinationv1.Lease{"c1": lease("c1", 41*time.Second, 120)}}, cluster: "c1", user: bootUser("boundc"), want: Deny, msg: "alive"},
		{name: "re-issue without a Lease", hub: hubState{claims: map[string]string{"c1": bootUser("boundc")}}, cluster: "c1", user: bootUser("boundc"), want: Approve},
		{name: "no lifetime asked", cluster: "c1", user: bootUser("boundc"), secs: new(int32), want: Deny, msg: "sets no spec.expirationSeconds"},
		{name: "lifetime above the cap", cluster: "c1", user: bootUser("boundc"), secs: ptr.To(day + 1), want: Deny, msg: "ask for at most 86400 seconds"},
		{name: "lifetime at the cap", cluster: "c1", user: bootUser("boundc"), secs: ptr.To(day), want: Approve},
		{name: "renewal by the agent while its Lease is fresh", hub: hubState{claims: map[string]string{"c1": bootUser("boundc")},
			leases: map[string]*coordinationv1.Lease{"c1": lease("c1", time.Second, 40)}}, cluster: "c1", user: clusterv1alpha1.AgentUser("c1"), groups: agentGroups, want: Approve},
		{name: "renewal above the cap", hub: hubState{claims: map[string]string{"c1": bootUser("boundc")}}, cluster: "c1", user: clusterv1alpha1.AgentUser("c1"), groups: agentGroups,
			secs: ptr.To(2 * day), want: Deny, msg: "longer than this hub's approver issues"},
		{name: "renewal of an unregistered cluster", cluster: "c1", user: clusterv1alpha1.AgentUser("c1"), groups: agentGroups, want: Deny, msg: "not registered"},
		{name: "an agent asking for another cluster", hub: hubState{claims: map[string]string{"c1": bootUser("boundc")}}, cluster: "c1", user: clusterv1alpha1.AgentUser("c2"),
			groups: agentGroups, want: Deny, msg: "may not obtain the identity of cluster c1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.hub
			if h.tokens == nil {
				h.tokens = tokens
			}
			if tc.want != Pending {
				h.allowed = true
			}
			groups := tc.groups
			if groups == nil {
				groups = bootGroups
			}
			secs := tc.secs
			switch {
			case secs == nil:
				secs = ptr.To(int32(3600))
			case *secs == 0:
				secs = nil
			}
			d, err := h.approver(t).Decide(context.Background(), agentCSR(t, tc.cluster, tc.user, groups, secs))
			if err != nil {
				t.Fatal(err)
			}
			if d.Verdict != tc.want || !strings.Contains(d.Message, tc.msg) {
				t.Fatalf("got %s (%s), want %s with %q", d.Verdict, d.Message, tc.want, tc.msg)
			}
			if d.Verdict == Approve && d.Provision != !strings.HasPrefix(tc.user, clusterv1alpha1.AgentUserPrefix) {
				t.Errorf("Provision=%v for %s", d.Provision, tc.user)
			}
		})
	}
}

func TestLeaseFresh(t *testing.T) {
	l := &coordinationv1.Lease{}
	if _, _, fresh := leaseFresh(l, decideNow); fresh {
		t.Error("a Lease never renewed or acquired counts as fresh")
	}
	l.Spec.AcquireTime = &metav1.MicroTime{Time: decideNow.Add(-30 * time.Second)}
	if _, d, fresh := leaseFresh(l, decideNow); !fresh || d != defaultLeaseDuration {
		t.Errorf("acquired 30s ago, no duration: fresh=%v duration=%s", fresh, d)
	}
}

func TestValidateMaxCertificateLifetime(t *testing.T) {
	for _, bad := range []time.Duration{0, time.Minute, 100 * 365 * 24 * time.Hour} {
		if err := ValidateMaxCertificateLifetime(bad); err == nil || !strings.Contains(err.Error(), "--max-certificate-lifetime") {
			t.Errorf("%s: %v", bad, err)
		}
	}
	if err := ValidateMaxCertificateLifetime(DefaultMaxCertificateLifetime); err != nil {
		t.Error(err)
	}
}
