package register

import (
	"fmt"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"

	"github.com/tether-io/tether/pkg/agent"
	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/pkg/register/hub"
)

// Names of the member objects, karmadactl register's (so that karmadactl
// unregister finds them too).
const (
	AgentName           = clusterv1alpha1.AgentName
	AgentServiceAccount = "karmada-agent-sa"
	MetricsPort         = 8080
	HealthPort          = 10357
	agentUID            = 65532
)

// Agent describes the agent Deployment and its arguments.
type Agent struct {
	Cluster          string
	Namespace        string
	ClusterNamespace string
	// LeaderElectNamespace is the member namespace of the agent's
	// leader-election Lease (register uses Namespace).
	LeaderElectNamespace string
	// APIEndpoint is the member apiserver URL the hub records.
	APIEndpoint        string
	Provider, Region   string
	Zones              []string
	ProxyServerAddress string
	Image              string
	Replicas           int32
	CertRotation       bool
}

// Args are 'tether-agent run' flags, which use karmada-agent's names.
func (a Agent) Args() []string {
	args := []string{
		"--karmada-kubeconfig=" + bootstrap.KubeconfigMountPath,
		"--karmada-context=" + bootstrap.AgentContext(a.Cluster),
		"--cluster-name=" + a.Cluster,
		"--cluster-api-endpoint=" + a.APIEndpoint,
	}
	for _, f := range []struct{ flag, value string }{
		{"--cluster-provider", a.Provider}, {"--cluster-region", a.Region},
		{"--cluster-zones", strings.Join(a.Zones, ",")}, {"--proxy-server-address", a.ProxyServerAddress},
	} {
		if f.value != "" {
			args = append(args, f.flag+"="+f.value)
		}
	}
	args = append(args,
		"--cluster-namespace="+a.ClusterNamespace,
		"--karmada-kubeconfig-namespace="+a.Namespace,
		"--leader-elect-resource-namespace="+a.LeaderElectNamespace,
		fmt.Sprintf("--metrics-bind-address=:%d", MetricsPort),
		fmt.Sprintf("--health-probe-bind-address=:%d", HealthPort),
	)
	// karmada-agent's controllers, certificate rotation included unless
	// turned off (karmada-agent runs it only when named).
	if a.CertRotation {
		return append(args, "--controllers=*,certRotation")
	}
	return append(args, "--controllers=*")
}

func systemLabels() map[string]string { return map[string]string{workv1alpha1.SystemLabel: "true"} }

// NamespaceObject is the member namespace of the agent.
func (a Agent) NamespaceObject() *corev1.Namespace { return hub.Namespace(a.Namespace, systemLabels()) }

// KubeconfigSecret holds the agent's hub kubeconfig.
func (a Agent) KubeconfigSecret(kubeconfig []byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: bootstrap.KubeconfigSecretName, Namespace: a.Namespace, Labels: systemLabels()},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{bootstrap.KubeconfigSecretKey: kubeconfig},
	}
}

// Objects are the member objects besides the namespace, in creation order.
// The agent applies arbitrary manifests, so its member RBAC is broad, as
// karmada-agent's is.
func (a Agent) Objects(kubeconfig []byte) []runtime.Object {
	rbac := metav1.TypeMeta{APIVersion: rbacv1.SchemeGroupVersion.String()}
	cr, crb := rbac, rbac
	cr.Kind, crb.Kind = "ClusterRole", "ClusterRoleBinding"
	return []runtime.Object{
		a.KubeconfigSecret(kubeconfig),
		&corev1.ServiceAccount{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
			ObjectMeta: metav1.ObjectMeta{Name: AgentServiceAccount, Namespace: a.Namespace, Labels: systemLabels()}},
		&rbacv1.ClusterRole{TypeMeta: cr, ObjectMeta: metav1.ObjectMeta{Name: AgentName, Labels: systemLabels()}, Rules: []rbacv1.PolicyRule{
			{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}},
			{NonResourceURLs: []string{"*"}, Verbs: []string{"get"}},
		}},
		&rbacv1.ClusterRoleBinding{TypeMeta: crb, ObjectMeta: metav1.ObjectMeta{Name: AgentName, Labels: systemLabels()},
			RoleRef:  rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: AgentName},
			Subjects: []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: AgentServiceAccount, Namespace: a.Namespace}}},
		a.Deployment(),
	}
}

// Deployment is the agent Deployment: non-root, read-only root file
// system, probes on the health port, bounded resources.
func (a Agent) Deployment() *appsv1.Deployment {
	labels := map[string]string{"app": AgentName}
	probe := func(period, failures int32) *corev1.Probe {
		return &corev1.Probe{
			ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/healthz", Port: intstr.FromString("health")}},
			PeriodSeconds: period, FailureThreshold: failures, TimeoutSeconds: 5,
		}
	}
	container := corev1.Container{
		Name:            AgentName,
		Image:           a.Image,
		ImagePullPolicy: corev1.PullIfNotPresent,
		Command:         append([]string{"tether-agent", "run"}, a.Args()...),
		Ports: []corev1.ContainerPort{
			{Name: "metrics", ContainerPort: MetricsPort, Protocol: corev1.ProtocolTCP},
			{Name: "health", ContainerPort: HealthPort, Protocol: corev1.ProtocolTCP},
		},
		// The Go runtime keeps under the container's memory limit (see agent.MemoryLimitEnv).
		Env: []corev1.EnvVar{{Name: agent.MemoryLimitEnv, ValueFrom: &corev1.EnvVarSource{
			ResourceFieldRef: &corev1.ResourceFieldSelector{ContainerName: AgentName, Resource: "limits.memory"}}}},
		StartupProbe:   probe(2, 60),
		LivenessProbe:  probe(15, 4),
		ReadinessProbe: probe(10, 3),
		Resources: corev1.ResourceRequirements{
			Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			Limits:   corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("512Mi")},
		},
		SecurityContext: &corev1.SecurityContext{
			AllowPrivilegeEscalation: ptr.To(false),
			ReadOnlyRootFilesystem:   ptr.To(true),
			Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		},
		VolumeMounts: []corev1.VolumeMount{{Name: bootstrap.KubeconfigSecretName, MountPath: bootstrap.KubeconfigMountDir, ReadOnly: true}},
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: appsv1.SchemeGroupVersion.String(), Kind: "Deployment"},
		ObjectMeta: metav1.ObjectMeta{Name: AgentName, Namespace: a.Namespace, Labels: labels},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(a.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName: AgentServiceAccount,
					SecurityContext: &corev1.PodSecurityContext{
						RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](agentUID), RunAsGroup: ptr.To[int64](agentUID),
						FSGroup: ptr.To[int64](agentUID), SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
					},
					Containers: []corev1.Container{container},
					Volumes: []corev1.Volume{{Name: bootstrap.KubeconfigSecretName, VolumeSource: corev1.VolumeSource{
						Secret: &corev1.SecretVolumeSource{SecretName: bootstrap.KubeconfigSecretName, DefaultMode: ptr.To[int32](0o440)}}}},
				},
			},
		},
	}
}
