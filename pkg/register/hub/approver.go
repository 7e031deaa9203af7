package hub

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"
	bootstraputil "k8s.io/cluster-bootstrap/token/util"
	"k8s.io/klog/v2"
	"k8s.io/utils/clock"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/register/objects"
)

// TokenClusterAnnotation on a bootstrap token Secret binds the token to one
// cluster name: the approver issues only that cluster's identity for it.
const TokenClusterAnnotation = "tether.io/cluster-name"

// Verdict is what the approver does with a CSR.
type Verdict string

const (
	// Ignore: not an agent CSR, or already decided; left to others.
	Ignore Verdict = "Ignore"
	// Pending: an agent CSR the rules do not allow now (the requester lacks
	// the RBAC for it); left for an administrator, as Karmada does.
	Pending Verdict = "Pending"
	// Approve: approved; for a first registration the cluster's RBAC is
	// created first.
	Approve Verdict = "Approve"
	// Deny: refused with a reason the requester sees.
	Deny Verdict = "Deny"
)

// Decision is the approver's verdict on one CSR and why.
type Decision struct {
	Verdict Verdict
	Message string
	// Cluster is the cluster whose identity is requested.
	Cluster string
	// Provision is set when approving a registration: the cluster's RBAC
	// and execution namespace are created before the approval.
	Provision bool
}

// Approver decides on agent CSRs with the rules of Karmada's
// agentcsrapproving controller, hardened (docs/karmada-compatibility.md,
// "Registration and unregistration"):
//   - the rbac-generator identity (cluster-admin on a Karmada CP) is never
//     issued, where Karmada's approver issues it to any bootstrap token;
//   - an identity is bound to its registrant, where Karmada's approver
//     lets any bootstrap token obtain any cluster's identity: a bootstrap
//     requester obtains cluster C's identity only if C is unclaimed or was
//     claimed by the same requester, the token still exists and, when the
//     token is bound to a cluster name (TokenClusterAnnotation), C is that
//     name;
//   - a registration (any request not made by C's own agent) is refused
//     while C's heartbeat Lease is fresh: a running agent renews its
//     certificate itself, so a token re-issuing a live cluster's identity
//     is someone else taking it over;
//   - a renewal (requester == CN) is approved only while C is registered;
//   - an agent never obtains another cluster's identity;
//   - no certificate is approved for longer than the lifetime cap, and a
//     request that leaves its lifetime to the signer is refused.
//
// What it refuses it denies, with a message the requester sees (register
// prints it), rather than leaving it pending: a pending request would be
// approved later without anyone asking again, for instance the moment the
// live agent it would replace loses its link.
//
// Registration creates the cluster's least-privilege RBAC and execution
// namespace with the approver's own credentials, so no identity with more
// rights than one agent's is ever issued.
type Approver struct {
	kube        kubernetes.Interface
	karmada     versioned.Interface
	objects     *objects.Client
	access      ClusterAccess
	maxLifetime time.Duration
	clock       clock.PassiveClock
}

// ApproverOption changes one of an Approver's defaults.
type ApproverOption func(*Approver)

// WithMaxCertificateLifetime caps the lifetime of the certificates the
// approver approves (default DefaultMaxCertificateLifetime); see
// ValidateMaxCertificateLifetime.
func WithMaxCertificateLifetime(d time.Duration) ApproverOption {
	return func(a *Approver) { a.maxLifetime = d }
}

// WithClock sets the clock Leases are judged by (default the real clock).
func WithClock(c clock.PassiveClock) ApproverOption {
	return func(a *Approver) { a.clock = c }
}

// NewApprover returns an approver acting with the hub credentials in the
// clients. access gives the namespaces of the RBAC it creates (its Cluster
// field is ignored).
func NewApprover(kube kubernetes.Interface, karmada versioned.Interface, objs *objects.Client, access ClusterAccess, opts ...ApproverOption) *Approver {
	a := &Approver{kube: kube, karmada: karmada, objects: objs, access: access, maxLifetime: DefaultMaxCertificateLifetime, clock: clock.RealClock{}}
	for _, o := range opts {
		o(a)
	}
	return a
}

// Decide applies the rules to csr without changing anything.
func (a *Approver) Decide(ctx context.Context, csr *certificatesv1.CertificateSigningRequest) (Decision, error) {
	if len(csr.Status.Certificate) > 0 || decided(csr) {
		return Decision{Verdict: Ignore, Message: "already decided"}, nil
	}
	req, err := bootstrap.ParseCSR(csr)
	if err != nil {
		return Decision{Verdict: Ignore, Message: err.Error()}, nil
	}
	agent, err := ParseAgentCSR(csr, req)
	if err != nil {
		return Decision{Verdict: Deny, Message: "not a valid Karmada agent certificate request: " + err.Error()}, nil
	}
	if agent == nil {
		return Decision{Verdict: Ignore, Message: "not an agent certificate request"}, nil
	}
	d := Decision{Cluster: agent.Cluster}
	if err := ValidateClusterName(agent.Cluster); err != nil {
		d.Verdict, d.Message = Deny, err.Error()+": Tether's approver never issues this identity"
		return d, nil
	}
	requester := csr.Spec.Username
	switch {
	case requester == req.Subject.CommonName && slices.Contains(csr.Spec.Groups, clusterv1alpha1.AgentGroup):
		return a.decideRenewal(ctx, csr, d)
	case strings.HasPrefix(requester, clusterv1alpha1.AgentUserPrefix):
		d.Verdict, d.Message = Deny, fmt.Sprintf("%s may not obtain the identity of cluster %s", requester, agent.Cluster)
		return d, nil
	default:
		return a.decideRegistration(ctx, csr, d)
	}
}

func (a *Approver) decideRenewal(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, d Decision) (Decision, error) {
	if ok, err := a.allowed(ctx, csr, "selfclusteragent"); err != nil || !ok {
		d.Verdict, d.Message = Pending, "the requester may not create certificatesigningrequests/selfclusteragent"
		return d, err
	}
	claim, err := a.claim(ctx, d.Cluster)
	if err != nil {
		return d, err
	}
	if claim == nil {
		d.Verdict, d.Message = Deny, fmt.Sprintf("cluster %s is not registered on this hub (unregistered?): its agent may not renew its certificate", d.Cluster)
		return d, nil
	}
	if why := lifetimeViolation(csr, a.maxLifetime); why != "" {
		d.Verdict, d.Message = Deny, why
		return d, nil
	}
	d.Verdict, d.Message = Approve, "Auto approving self karmada agent certificate after SubjectAccessReview."
	return d, nil
}

func (a *Approver) decideRegistration(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, d Decision) (Decision, error) {
	if ok, err := a.allowed(ctx, csr, "clusteragent"); err != nil || !ok {
		d.Verdict, d.Message = Pending, "the requester may not create certificatesigningrequests/clusteragent"
		return d, err
	}
	requester := csr.Spec.Username
	checks := []func(context.Context) (string, error){
		func(ctx context.Context) (string, error) { return a.tokenViolation(ctx, requester, d.Cluster) },
		func(ctx context.Context) (string, error) { return a.claimViolation(ctx, requester, d.Cluster) },
		func(ctx context.Context) (string, error) { return a.liveAgent(ctx, d.Cluster) },
		func(context.Context) (string, error) { return lifetimeViolation(csr, a.maxLifetime), nil },
	}
	for _, check := range checks {
		why, err := check(ctx)
		if err != nil {
			return d, err
		}
		if why != "" {
			d.Verdict, d.Message = Deny, why
			return d, nil
		}
	}
	d.Verdict, d.Provision = Approve, true
	d.Message = "Auto approving karmada agent certificate after SubjectAccessReview."
	return d, nil
}

// tokenViolation says why a bootstrap token requester may not obtain
// cluster's identity (its token is gone, or bound to another cluster), or
// returns "". Other requesters pass.
func (a *Approver) tokenViolation(ctx context.Context, requester, cluster string) (string, error) {
	id, ok := strings.CutPrefix(requester, bootstrapapi.BootstrapUserPrefix)
	if !ok {
		return "", nil
	}
	name := bootstraputil.BootstrapTokenSecretName(id)
	token, err := a.kube.CoreV1().Secrets(metav1.NamespaceSystem).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return fmt.Sprintf("bootstrap token %s no longer exists", id), nil
	}
	if err != nil {
		return "", fmt.Errorf("read Secret %s/%s: %w", metav1.NamespaceSystem, name, err)
	}
	if bound := token.Annotations[TokenClusterAnnotation]; bound != "" && bound != cluster {
		return fmt.Sprintf("bootstrap token %s is bound to cluster %s, not %s: register with --cluster-name %s, "+
			"or create a token for %s ('tether-agent token create --print-register-command --cluster-name %s')", id, bound, cluster, bound, cluster, cluster), nil
	}
	return "", nil
}

// claimViolation says why requester may not obtain cluster's identity
// (another requester registered it, or a Cluster of that name exists that
// Tether's approver did not register), or returns "".
func (a *Approver) claimViolation(ctx context.Context, requester, cluster string) (string, error) {
	claim, err := a.claim(ctx, cluster)
	if err != nil {
		return "", err
	}
	if claim != nil {
		if claim.Annotations[ClaimAnnotation] != requester {
			return fmt.Sprintf("cluster %s is already registered by someone else: unregister it first ('tether-agent unregister %s')", cluster, cluster), nil
		}
		return "", nil
	}
	_, err = a.karmada.ClusterV1alpha1().Clusters().Get(ctx, cluster, metav1.GetOptions{})
	if err == nil {
		return fmt.Sprintf("a Cluster named %s already exists on the hub: unregister it first", cluster), nil
	}
	if !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("read Cluster %s: %w", cluster, err)
	}
	return "", nil
}

// claim returns the ClusterRoleBinding that records the cluster's
// registration, or nil.
func (a *Approver) claim(ctx context.Context, cluster string) (*metav1.ObjectMeta, error) {
	crb, err := a.kube.RbacV1().ClusterRoleBindings().Get(ctx, AgentRoleName(cluster), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read ClusterRoleBinding %s: %w", AgentRoleName(cluster), err)
	}
	return &crb.ObjectMeta, nil
}

// allowed runs Karmada's SubjectAccessReview for the requester on create
// certificatesigningrequests/<subresource>.
func (a *Approver) allowed(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, subresource string) (bool, error) {
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range csr.Spec.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: csr.Spec.Username, UID: csr.Spec.UID, Groups: csr.Spec.Groups, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Group: "certificates.k8s.io", Resource: "certificatesigningrequests", Subresource: subresource, Verb: "create", Version: "*",
		},
	}}
	res, err := a.kube.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return false, fmt.Errorf("SubjectAccessReview for %s: %w", csr.Spec.Username, err)
	}
	return res.Status.Allowed, nil
}

// Act carries a decision out: provision then approve, or deny. Pending and
// Ignore change nothing.
func (a *Approver) Act(ctx context.Context, csr *certificatesv1.CertificateSigningRequest, d Decision) error {
	logger := klog.FromContext(ctx).WithValues("csr", csr.Name, "cluster", d.Cluster, "requester", csr.Spec.Username)
	var cond certificatesv1.CertificateSigningRequestCondition
	switch d.Verdict {
	case Approve:
		if d.Provision {
			access := a.access
			access.Cluster, access.RegisteredBy = d.Cluster, csr.Spec.Username
			if err := a.objects.Apply(ctx, access.SharedNamespaces()...); err != nil {
				return err
			}
			if err := a.objects.Apply(ctx, access.Objects()...); err != nil {
				return err
			}
		}
		cond = certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateApproved, Reason: "AutoApproved"}
	case Deny:
		cond = certificatesv1.CertificateSigningRequestCondition{Type: certificatesv1.CertificateDenied, Reason: "TetherAgentCSRDenied"}
	default:
		logger.V(2).Info("Leaving the CSR alone", "verdict", d.Verdict, "why", d.Message)
		return nil
	}
	cond.Status, cond.Message = corev1.ConditionTrue, d.Message
	csr = csr.DeepCopy()
	csr.Status.Conditions = append(csr.Status.Conditions, cond)
	if _, err := a.kube.CertificatesV1().CertificateSigningRequests().UpdateApproval(ctx, csr.Name, csr, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("%s CertificateSigningRequest %s: %w", strings.ToLower(string(d.Verdict)), csr.Name, err)
	}
	logger.Info("Decided on an agent certificate request", "verdict", d.Verdict, "why", d.Message)
	return nil
}

// Process decides on the named CSR and acts.
func (a *Approver) Process(ctx context.Context, name string) (Decision, error) {
	csr, err := a.kube.CertificatesV1().CertificateSigningRequests().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return Decision{}, fmt.Errorf("read CertificateSigningRequest %s: %w", name, err)
	}
	d, err := a.Decide(ctx, csr)
	if err != nil {
		return d, err
	}
	return d, a.Act(ctx, csr, d)
}

func decided(csr *certificatesv1.CertificateSigningRequest) bool {
	for _, c := range csr.Status.Conditions {
		if c.Type == certificatesv1.CertificateApproved || c.Type == certificatesv1.CertificateDenied {
			return true
		}
	}
	return false
}
