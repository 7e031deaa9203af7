package register

import (
	"context"
	"crypto/x509/pkix"
	"fmt"

	authorizationv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/generated/clientset/versioned"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/pkg/register/objects"
)

// createHubRBAC follows Karmada's path on a Karmada control plane: a
// certificate for the rbac-generator identity, which that plane binds to a
// cluster-admin role, creates the cluster's RBAC and execution namespace.
// The certificate is asked for with the shortest lifetime the apiserver
// allows, its key never leaves memory, and its CSR is deleted afterwards.
func (r *registration) createHubRBAC(ctx context.Context, boot kubernetes.Interface) error {
	subject := pkix.Name{CommonName: clusterv1alpha1.AgentUser(hub.RBACGeneratorCluster), Organization: []string{clusterv1alpha1.AgentGroup}}
	pending, certPEM, err := r.requestCertificate(ctx, boot, "agent-rbac-generator-"+r.cluster, subject, bootstrap.MinExpirationSeconds)
	if err != nil {
		return fmt.Errorf("RBAC generator certificate: %w", err)
	}
	genCfg := r.info.CertConfig(certPEM, pending.KeyPEM)
	karmada, err := versioned.NewForConfig(genCfg)
	if err != nil {
		return err
	}
	if _, err := karmada.ClusterV1alpha1().Clusters().Get(ctx, r.cluster, metav1.GetOptions{}); err == nil {
		return fmt.Errorf("a Cluster named %s already exists on the hub: pick another --cluster-name, or unregister it first ('tether-agent unregister %s')", r.cluster, r.cluster)
	} else if !apierrors.IsNotFound(err) {
		return fmt.Errorf("check Cluster %s on the hub: %w", r.cluster, err)
	}
	hubObjs, err := objects.NewClient(genCfg)
	if err != nil {
		return err
	}
	access := r.access()
	if found, err := hubObjs.Existing(ctx, access.Objects()...); err != nil {
		return err
	} else if len(found) > 0 {
		return fmt.Errorf("the hub already has %s for cluster %s (left by an earlier registration): remove it with 'tether-agent unregister %s --karmada-config <hub admin kubeconfig>'",
			objects.Refs(found), r.cluster, r.cluster)
	}
	if err := hubObjs.Apply(ctx, access.SharedNamespaces()...); err != nil {
		return err
	}
	r.onFailure("hub RBAC and execution namespace of "+r.cluster, r.deleter(hubObjs, access.Objects()...))
	if err := hubObjs.Apply(ctx, access.Objects()...); err != nil {
		return err
	}
	gen, err := kubernetes.NewForConfig(genCfg)
	if err != nil {
		return err
	}
	if err := gen.CertificatesV1().CertificateSigningRequests().Delete(ctx, pending.Name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("delete CertificateSigningRequest %s of the RBAC generator: %w", pending.Name, err)
	}
	r.printf("[hub] created the RBAC and execution namespace %s of cluster %s\n", workv1alpha1.ExecutionNamespace(r.cluster), r.cluster)
	return nil
}

// checkGranted confirms, with the agent's own certificate, that the hub
// grants it its Cluster and its Works: on a Tether hub the approver
// creates that RBAC before it approves.
func (r *registration) checkGranted(ctx context.Context, agentCfg *rest.Config) error {
	cs, err := kubernetes.NewForConfig(agentCfg)
	if err != nil {
		return err
	}
	for _, p := range []hubaccess.Permission{hubaccess.ClusterStatusUpdate, hubaccess.WorkList} {
		attrs := p.Attributes(r.cluster, r.agent.ClusterNamespace)
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{ResourceAttributes: attrs}}
		res, err := cs.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, review, metav1.CreateOptions{})
		if err != nil {
			return fmt.Errorf("check the agent's access on the hub: %w", err)
		}
		if !res.Status.Allowed {
			return fmt.Errorf("the hub issued the agent's certificate but grants cluster %s no %s on %s: the CSR was approved without creating the cluster's RBAC; "+
				"a hub administrator creates it with 'tether-agent hub approve <csr>'", r.cluster, attrs.Verb, attrs.Resource)
		}
	}
	return nil
}
