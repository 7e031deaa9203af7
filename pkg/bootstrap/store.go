package bootstrap

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/util/retry"
)

// Where register puts the agent's hub kubeconfig in the member cluster, and
// where the agent Deployment mounts it (karmada-agent's layout).
const (
	KubeconfigSecretName = "karmada-kubeconfig"
	KubeconfigSecretKey  = "karmada-kubeconfig"
	KubeconfigMountDir   = "/etc/kubeconfig"
	KubeconfigMountPath  = KubeconfigMountDir + "/" + KubeconfigSecretKey
)

// Store holds the agent's hub kubeconfig: a rotation reads it and writes
// the renewed credentials back.
type Store interface {
	Load(ctx context.Context) ([]byte, error)
	Save(ctx context.Context, kubeconfig []byte) error
	// String names the store in messages.
	String() string
}

// SecretStore keeps the kubeconfig under one key of a member Secret.
type SecretStore struct {
	client          kubernetes.Interface
	namespace, name string
	key             string
}

// NewSecretStore returns the store of Secret namespace/name, key key.
func NewSecretStore(client kubernetes.Interface, namespace, name, key string) *SecretStore {
	return &SecretStore{client: client, namespace: namespace, name: name, key: key}
}

func (s *SecretStore) String() string {
	return fmt.Sprintf("Secret %s/%s key %s", s.namespace, s.name, s.key)
}

// Load reads the kubeconfig from the Secret.
func (s *SecretStore) Load(ctx context.Context) ([]byte, error) {
	secret, err := s.client.CoreV1().Secrets(s.namespace).Get(ctx, s.name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s, err)
	}
	raw, ok := secret.Data[s.key]
	if !ok {
		return nil, fmt.Errorf("%s: the key does not exist", s)
	}
	return raw, nil
}

// Save writes the kubeconfig into the Secret, keeping its other keys.
func (s *SecretStore) Save(ctx context.Context, kubeconfig []byte) error {
	err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		secret, err := s.client.CoreV1().Secrets(s.namespace).Get(ctx, s.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if secret.Data == nil {
			secret.Data = map[string][]byte{}
		}
		secret.Data[s.key] = kubeconfig
		_, err = s.client.CoreV1().Secrets(s.namespace).Update(ctx, secret, metav1.UpdateOptions{})
		return err
	})
	if err != nil {
		return fmt.Errorf("write %s: %w", s, err)
	}
	return nil
}

// FileStore keeps the kubeconfig in a file, for an agent run outside the
// member cluster. A mounted Secret is read-only: use SecretStore there.
type FileStore struct{ path string }

// NewFileStore returns the store of the file at path.
func NewFileStore(path string) *FileStore { return &FileStore{path: path} }

func (f *FileStore) String() string { return "file " + f.path }

// Load reads the file.
func (f *FileStore) Load(context.Context) ([]byte, error) {
	raw, err := os.ReadFile(f.path)
	if err != nil {
		return nil, fmt.Errorf("read hub kubeconfig: %w", err)
	}
	return raw, nil
}

// Save replaces the file atomically, readable by its owner only: it writes
// a temporary file, syncs it, renames it over the old one and syncs the
// directory, so that a crash leaves either the old kubeconfig or the new
// one, never an empty or truncated file.
func (f *FileStore) Save(_ context.Context, kubeconfig []byte) error {
	if err := replaceFile(f.path, kubeconfig); err != nil {
		return fmt.Errorf("write %s: %w", f, err)
	}
	return nil
}

func replaceFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".kubeconfig-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// MountedStore is karmada-agent's layout: the kubeconfig is read from a
// file, the Secret mounted into the agent's pod, and renewed credentials are
// written to that Secret, whose mount the kubelet then refreshes. When the
// Secret does not exist (an agent run outside the member from a kubeconfig
// file), they are written to the file instead.
type MountedStore struct {
	file   *FileStore
	secret *SecretStore
}

// NewMountedStore reads path and writes renewals to secret.
func NewMountedStore(path string, secret *SecretStore) *MountedStore {
	return &MountedStore{file: NewFileStore(path), secret: secret}
}

func (m *MountedStore) String() string {
	return fmt.Sprintf("%s (renewals written to %s)", m.file, m.secret)
}

// Load reads the file.
func (m *MountedStore) Load(ctx context.Context) ([]byte, error) { return m.file.Load(ctx) }

// Save writes the Secret, or the file when there is no Secret.
func (m *MountedStore) Save(ctx context.Context, kubeconfig []byte) error {
	err := m.secret.Save(ctx, kubeconfig)
	if apierrors.IsNotFound(err) {
		return m.file.Save(ctx, kubeconfig)
	}
	return err
}

// LoadHubKubeconfig reads the hub kubeconfig from store and selects
// context (the current context when empty).
func LoadHubKubeconfig(ctx context.Context, store Store, context string) (*HubKubeconfig, error) {
	raw, err := store.Load(ctx)
	if err != nil {
		return nil, err
	}
	kc, err := ParseHubKubeconfig(raw, context)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", store, err)
	}
	return kc, nil
}
