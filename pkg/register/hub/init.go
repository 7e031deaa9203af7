package hub

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsclient "k8s.io/apiextensions-apiserver/pkg/client/clientset/clientset"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	bootstrapapi "k8s.io/cluster-bootstrap/token/api"

	"github.com/tether-io/tether/deploy/crds"
	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/register/objects"
)

// Names of the bootstrap objects, those of Karmada's control plane where it
// has them.
const (
	// DefaultTokenGroup is the extra group of tokens 'token create' makes.
	DefaultTokenGroup = "system:bootstrappers:karmada:default-cluster-token"
	// HubInfoConfigMap in kube-public marks a hub prepared by 'hub init':
	// registration there is approved by Tether's approver, which creates
	// each cluster's RBAC. Anonymous users may read it, like cluster-info.
	HubInfoConfigMap = "tether-hub-info"
	// HubInfoApprovalKey says who approves agent CSRs ("tether").
	HubInfoApprovalKey = "approval"

	clusterInfoRole  = "system:karmada:bootstrap-signer-clusterinfo"
	bootstrapCRB     = "system:karmada:agent-bootstrap"
	autoApproverRole = "system:karmada:certificatesigningrequest:autoapprover"
	autoApproveCRB   = "system:karmada:agent-autoapprove-bootstrap"
	selfApproverRole = "system:karmada:certificatesigningrequest:selfautoapprover"
	selfApproveCRB   = "system:karmada:agent-autoapprove-certificate-rotation"
	anonymousUser    = "system:anonymous"
	nodeBootstrapper = "system:node-bootstrapper"
	establishTimeout = time.Minute
	approvalTether   = "tether"
)

// InitConfig is what 'hub init' needs.
type InitConfig struct {
	// Server and CAData go into cluster-info (the hub's URL and CA bundle).
	Server string
	CAData []byte
	// Access gives the shared namespaces to create.
	Access ClusterAccess
}

// InitObjects are the objects 'hub init' applies, CRDs first.
func InitObjects(cfg InitConfig) ([]runtime.Object, error) {
	all, err := crds.All()
	if err != nil {
		return nil, err
	}
	var out []runtime.Object
	for _, crd := range all {
		crd.TypeMeta = metav1.TypeMeta{APIVersion: apiextensionsv1.SchemeGroupVersion.String(), Kind: "CustomResourceDefinition"}
		out = append(out, crd)
	}
	out = append(out, cfg.Access.SharedNamespaces()...)
	labels := map[string]string{"karmada.io/bootstrapping": "rbac-defaults"}
	group := func(name string) []rbacv1.Subject {
		return []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.GroupKind, Name: name}}
	}
	csrRole := func(name, sub string) *rbacv1.ClusterRole {
		return &rbacv1.ClusterRole{TypeMeta: typeMeta("ClusterRole"), ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"certificates.k8s.io"}, Resources: []string{"certificatesigningrequests/" + sub}, Verbs: []string{"create"}}}}
	}
	crb := func(name, role string, subjects []rbacv1.Subject) *rbacv1.ClusterRoleBinding {
		return &rbacv1.ClusterRoleBinding{TypeMeta: typeMeta("ClusterRoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels},
			RoleRef: rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}, Subjects: subjects}
	}
	out = append(out,
		&corev1.ConfigMap{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: HubInfoConfigMap, Namespace: metav1.NamespacePublic, Labels: map[string]string{workv1alpha1.SystemLabel: "true"}},
			Data:       map[string]string{HubInfoApprovalKey: approvalTether}},
		&rbacv1.Role{TypeMeta: typeMeta("Role"), ObjectMeta: metav1.ObjectMeta{Name: clusterInfoRole, Namespace: metav1.NamespacePublic, Labels: labels},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get"},
				ResourceNames: []string{bootstrapapi.ConfigMapClusterInfo, HubInfoConfigMap}}}},
		&rbacv1.RoleBinding{TypeMeta: typeMeta("RoleBinding"), ObjectMeta: metav1.ObjectMeta{Name: clusterInfoRole, Namespace: metav1.NamespacePublic, Labels: labels},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: clusterInfoRole},
			Subjects: []rbacv1.Subject{{APIGroup: rbacv1.GroupName, Kind: rbacv1.UserKind, Name: anonymousUser}}},
		crb(bootstrapCRB, nodeBootstrapper, group(DefaultTokenGroup)),
		csrRole(autoApproverRole, "clusteragent"),
		crb(autoApproveCRB, autoApproverRole, group(DefaultTokenGroup)),
		csrRole(selfApproverRole, "selfclusteragent"),
		crb(selfApproveCRB, selfApproverRole, group(clusterv1alpha1.AgentGroup)),
	)
	return out, nil
}

// ClusterInfo is the kube-public/cluster-info ConfigMap for a hub: a
// kubeconfig with its server and CA and no credentials.
func ClusterInfo(server string, caData []byte) (*corev1.ConfigMap, error) {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[""] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caData}
	raw, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, err
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: metav1.ObjectMeta{Name: bootstrapapi.ConfigMapClusterInfo, Namespace: metav1.NamespacePublic},
		Data:       map[string]string{bootstrapapi.KubeConfigKey: string(raw)},
	}, nil
}

// Init prepares the hub restCfg points at; it is idempotent. cluster-info
// is created when missing and left alone when present (kubeadm or a Karmada
// installer may own it; bootstrapsigner adds signatures to it). It refuses a
// Karmada control plane, before it writes anything (see RefuseKarmada).
func Init(ctx context.Context, restCfg *rest.Config, cfg InitConfig) (clusterInfoCreated bool, err error) {
	if err := RefuseKarmada(ctx, restCfg); err != nil {
		return false, err
	}
	objs, err := InitObjects(cfg)
	if err != nil {
		return false, err
	}
	client, err := objects.NewClient(restCfg)
	if err != nil {
		return false, err
	}
	if err := client.Apply(ctx, objs...); err != nil {
		return false, err
	}
	if err := waitEstablished(ctx, restCfg, objs); err != nil {
		return false, err
	}
	cs, err := kubernetes.NewForConfig(restCfg)
	if err != nil {
		return false, err
	}
	cm, err := ClusterInfo(cfg.Server, cfg.CAData)
	if err != nil {
		return false, err
	}
	_, err = cs.CoreV1().ConfigMaps(metav1.NamespacePublic).Create(ctx, cm, metav1.CreateOptions{})
	switch {
	case apierrors.IsAlreadyExists(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("create ConfigMap kube-public/cluster-info: %w", err)
	}
	return true, nil
}

func waitEstablished(ctx context.Context, restCfg *rest.Config, objs []runtime.Object) error {
	cs, err := apiextensionsclient.NewForConfig(restCfg)
	if err != nil {
		return err
	}
	var names []string
	for _, o := range objs {
		if crd, ok := o.(*apiextensionsv1.CustomResourceDefinition); ok {
			names = append(names, crd.Name)
		}
	}
	return crds.WaitEstablished(ctx, cs, names, establishTimeout)
}
