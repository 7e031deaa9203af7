package migrate

import (
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// karmadactlDeployment is the agent Deployment as karmadactl register writes it.
func karmadactlDeployment() *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Namespace: "karmada-system", Name: AgentDeployment},
		Spec: appsv1.DeploymentSpec{
			Strategy: appsv1.DeploymentStrategy{Type: appsv1.RollingUpdateDeploymentStrategyType},
			Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{
				Containers: []corev1.Container{{
					Name: "karmada-agent", Image: "docker.io/karmada/karmada-agent:v1.15.0",
					Command: []string{"/bin/karmada-agent", "--karmada-kubeconfig=/etc/kubeconfig/karmada-kubeconfig", "--cluster-name=m1",
						"--cluster-zones=", "--leader-elect-resource-namespace=karmada-system", "--v=2"},
					VolumeMounts: []corev1.VolumeMount{{Name: "kubeconfig", MountPath: "/etc/kubeconfig"}},
				}},
				Volumes: []corev1.Volume{{Name: "kubeconfig", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: "karmada-kubeconfig"}}}},
			}},
		},
	}
}

func TestTetherContainerKeepsEveryFlagAndTheKubeconfigArgument(t *testing.T) {
	d := karmadactlDeployment()
	c := d.Spec.Template.Spec.Containers[0]
	got := tetherContainer(c, "tether-agent:v1")
	if got.Image != "tether-agent:v1" {
		t.Errorf("image %s", got.Image)
	}
	want := append(slices.Clone(TetherCommand), c.Command[1:]...)
	if !slices.Equal(got.Command, want) {
		t.Errorf("command %v, want %v", got.Command, want)
	}
	if !isKarmadaAgent(c) || isKarmadaAgent(got) {
		t.Errorf("isKarmadaAgent: karmada-agent's %v, Tether's %v", isKarmadaAgent(c), isKarmadaAgent(got))
	}
	if len(got.Env) != 2 || got.Env[0].ValueFrom.FieldRef.FieldPath != "metadata.name" {
		t.Errorf("env %+v, want POD_NAME and POD_NAMESPACE from the downward API", got.Env)
	}
	if again := tetherContainer(got, "tether-agent:v1"); len(again.Env) != 2 {
		t.Errorf("switching twice added the env again: %+v", again.Env)
	}
	if c.Image != "docker.io/karmada/karmada-agent:v1.15.0" || len(c.Env) != 0 {
		t.Error("tetherContainer changed its input")
	}
	// karmadactl's lookup still works on the switched container.
	d.Spec.Template.Spec.Containers[0] = got
	if cred, err := hubCredentials(d); err != nil || cred.Secret != "karmada-kubeconfig" || cred.Key != "karmada-kubeconfig" {
		t.Errorf("hub credentials of the switched Deployment: %+v, %v", cred, err)
	}
}

func TestTetherContainerWithArgsOnly(t *testing.T) {
	c := corev1.Container{Image: "karmada/karmada-agent:v1", Args: []string{"--cluster-name=m1"}}
	got := tetherContainer(c, "tether-agent:v1")
	if !slices.Equal(got.Command, TetherCommand) || !slices.Equal(got.Args, c.Args) {
		t.Errorf("command %v args %v", got.Command, got.Args)
	}
	if !isKarmadaAgent(c) {
		t.Error("a container without a command whose image is karmada-agent's is karmada-agent")
	}
}

func TestHubCredentialsErrorsNameWhatIsMissing(t *testing.T) {
	noArg := karmadactlDeployment()
	noArg.Spec.Template.Spec.Containers[0].Command = []string{"/bin/karmada-agent", "--cluster-name=m1"}
	if _, err := hubCredentials(noArg); err == nil || !strings.Contains(err.Error(), "--karmada-kubeconfig=") {
		t.Errorf("no --karmada-kubeconfig: %v", err)
	}
	noVolume := karmadactlDeployment()
	noVolume.Spec.Template.Spec.Containers[0].VolumeMounts = nil
	if _, err := hubCredentials(noVolume); err == nil || !strings.Contains(err.Error(), "/etc/kubeconfig") {
		t.Errorf("no volume: %v", err)
	}
	ctx := karmadactlDeployment()
	ctx.Spec.Template.Spec.Containers[0].Command = append(ctx.Spec.Template.Spec.Containers[0].Command, "--karmada-context=m1@hub")
	if cred, err := hubCredentials(ctx); err != nil || cred.Context != "m1@hub" {
		t.Errorf("--karmada-context: %+v, %v", cred, err)
	}
}

func TestPreviousAgentRoundTrip(t *testing.T) {
	d := karmadactlDeployment()
	rec := previousAgent{Container: d.Spec.Template.Spec.Containers[0], Strategy: d.Spec.Strategy}
	d.Annotations = map[string]string{PreviousAgentAnnotation: rec.encode()}
	got, err := readPreviousAgent(d)
	if err != nil || got == nil || !slices.Equal(got.Container.Command, rec.Container.Command) || got.Strategy.Type != rec.Strategy.Type {
		t.Fatalf("previous agent %+v, %v", got, err)
	}
	d.Annotations[PreviousAgentAnnotation] = "not json"
	if _, err := readPreviousAgent(d); err == nil || !strings.Contains(err.Error(), PreviousAgentAnnotation) || strings.Contains(err.Error(), "not json") {
		t.Errorf("a broken annotation: %v (must name the annotation, not quote it)", err)
	}
}

func TestOptionsValidate(t *testing.T) {
	o := NewOptions()
	if err := o.Validate(false); err == nil || !strings.Contains(err.Error(), "--agent-image") {
		t.Errorf("no image: %v", err)
	}
	if err := o.Validate(true); err != nil {
		t.Errorf("a rollback needs no image: %v", err)
	}
	o.Image, o.Namespace = "x", ""
	if err := o.Validate(false); err == nil || !strings.Contains(err.Error(), "--namespace") {
		t.Errorf("no namespace: %v", err)
	}
}
