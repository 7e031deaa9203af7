package migrate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/tether-io/tether/pkg/rollout"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	appsv1 "k8s.io/api/apps/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// Options are migrate's settings.
type Options struct {
	// Namespace of the agent's objects in the member (karmadactl's -n).
	Namespace string
	// Image is Tether's agent image.
	Image string
	// DryRun prints each change and writes nothing.
	DryRun bool
	// Timeout bounds the wait for each rollout of the Deployment.
	Timeout time.Duration
}

// NewOptions returns the defaults; Image has none.
func NewOptions() Options {
	return Options{Namespace: clusterv1alpha1.AgentNamespace, Timeout: 5 * time.Minute}
}

// Validate says which flag is wrong.
func (o Options) Validate(rollback bool) error {
	if o.Namespace == "" {
		return errors.New("-n/--namespace must not be empty: the member namespace of the karmada-agent Deployment (karmadactl's default is karmada-system)")
	}
	if !rollback && o.Image == "" {
		return errors.New("--agent-image must not be empty: the Tether agent image the Deployment switches to")
	}
	if o.Timeout <= 0 {
		return fmt.Errorf("--timeout must be positive, got %s", o.Timeout)
	}
	return nil
}

// Config is one run of migrate or rollback.
type Config struct {
	Options
	// Member is the member cluster, with rights on the agent's objects.
	Member *rest.Config
	// Out receives one line per step.
	Out io.Writer
}

type migration struct {
	cfg    Config
	member kubernetes.Interface
	hub    *hubClients // the agent's own hub identity, read-only
}

func newMigration(cfg Config) (*migration, error) {
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	cs, err := kubernetes.NewForConfig(cfg.Member)
	if err != nil {
		return nil, fmt.Errorf("member client: %w", err)
	}
	return &migration{cfg: cfg, member: cs}, nil
}

// start builds the migration and reads the agent Deployment and the
// karmada-agent an earlier migrate replaced (nil when there is none).
func start(ctx context.Context, cfg Config) (*migration, *appsv1.Deployment, *previousAgent, error) {
	m, err := newMigration(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	d, err := m.deployment(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	rec, err := readPreviousAgent(d)
	if err != nil {
		return nil, nil, nil, err
	}
	return m, d, rec, nil
}

func (m *migration) step(format string, args ...any) { fmt.Fprintf(m.cfg.Out, format+"\n", args...) }

func (m *migration) deployment(ctx context.Context) (*appsv1.Deployment, error) {
	d, err := m.member.AppsV1().Deployments(m.cfg.Namespace).Get(ctx, AgentDeployment, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("the member has no Deployment %s/%s: migrate works on a member registered with karmadactl register (-n/--namespace names its namespace)",
			m.cfg.Namespace, AgentDeployment)
	}
	if err != nil {
		return nil, fmt.Errorf("read Deployment %s/%s: %w", m.cfg.Namespace, AgentDeployment, err)
	}
	if len(d.Spec.Template.Spec.Containers) == 0 {
		return nil, fmt.Errorf("Deployment %s/%s has no container", d.Namespace, d.Name)
	}
	return d, nil
}

// update writes d's spec and annotations (the resourceVersion read before
// guards against a concurrent change).
func (m *migration) update(ctx context.Context, d *appsv1.Deployment) (*appsv1.Deployment, error) {
	out, err := m.member.AppsV1().Deployments(d.Namespace).Update(ctx, d, metav1.UpdateOptions{FieldManager: "tether-agent-migrate"})
	if err != nil {
		return nil, fmt.Errorf("update Deployment %s/%s: %w", d.Namespace, d.Name, err)
	}
	return out, nil
}

// waitRollout waits until every replica of d runs its current template.
func (m *migration) waitRollout(ctx context.Context, d *appsv1.Deployment) error {
	m.step("Waiting for the rollout of Deployment %s/%s (at most %s)", d.Namespace, d.Name, m.cfg.Timeout)
	if err := rollout.Wait(ctx, m.member, d.Namespace, d.Name, m.cfg.Timeout); err != nil {
		return fmt.Errorf("%w; check its pods, then run the same command again to resume", err)
	}
	m.step("Rollout finished: every replica runs the new template")
	return nil
}
