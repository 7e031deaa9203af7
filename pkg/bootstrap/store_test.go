package bootstrap_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/pkg/bootstrap"
	"github.com/tether-io/tether/test/testenv"
)

// TestFileStoreSaveHelper is run by TestFileStoreSaveIsDurable under strace.
func TestFileStoreSaveHelper(t *testing.T) {
	path := os.Getenv("TETHER_STORE_SAVE")
	if path == "" {
		t.Skip("run by TestFileStoreSaveIsDurable")
	}
	if err := bootstrap.NewFileStore(path).Save(context.Background(), []byte("apiVersion: v1\nkind: Config\n")); err != nil {
		t.Fatal(err)
	}
}

// A crash after FileStore.Save must leave the old or the new kubeconfig,
// never an empty one: the new file's data is synced before the rename, and
// the directory after it. The system calls are read with strace.
func TestFileStoreSaveIsDurable(t *testing.T) {
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Skip("strace is not installed")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "karmada-kubeconfig")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	trace := filepath.Join(dir, "trace")
	cmd := exec.Command(strace, "-f", "-qq", "-o", trace, "-e", "trace=openat,fsync,fdatasync,rename,renameat,renameat2",
		os.Args[0], "-test.run=^TestFileStoreSaveHelper$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTENV_SKIP=1", "TETHER_STORE_SAVE="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		if strings.Contains(string(out), "ptrace") {
			t.Skipf("strace cannot trace here: %s", out)
		}
		t.Fatalf("save under strace: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); !strings.Contains(string(got), "kind: Config") {
		t.Fatalf("the kubeconfig was not replaced: %q", got)
	}
	assertDurableReplace(t, string(raw), dir)
}

// assertDurableReplace checks, in trace order: the temporary file opened
// (fd T), fsync(T), the rename onto the kubeconfig, the directory opened
// (fd D), fsync(D).
func assertDurableReplace(t *testing.T, trace, dir string) {
	t.Helper()
	openTmp := regexp.MustCompile(`openat\(AT_FDCWD, "` + regexp.QuoteMeta(dir) + `/\.kubeconfig-[^"]*", [^)]*O_CREAT[^)]*\)\s*= (\d+)`)
	openDir := regexp.MustCompile(`openat\(AT_FDCWD, "` + regexp.QuoteMeta(dir) + `", [^)]*\)\s*= (\d+)`)
	rename := regexp.MustCompile(`rename(at2?)?\(.*\.kubeconfig-.*karmada-kubeconfig"`)
	const (
		wantTmp = iota
		wantTmpSync
		wantRename
		wantDir
		wantDirSync
		done
	)
	state, fd := wantTmp, ""
	for _, line := range strings.Split(trace, "\n") {
		switch state {
		case wantTmp:
			if m := openTmp.FindStringSubmatch(line); m != nil {
				state, fd = wantTmpSync, m[1]
			}
		case wantTmpSync:
			if strings.Contains(line, "fsync("+fd+")") || strings.Contains(line, "fsync("+fd+" ") || strings.Contains(line, "fdatasync("+fd) {
				state = wantRename
			} else if rename.MatchString(line) {
				t.Fatalf("the temporary file was renamed before its data was synced:\n%s", line)
			}
		case wantRename:
			if rename.MatchString(line) {
				state = wantDir
			}
		case wantDir:
			if m := openDir.FindStringSubmatch(line); m != nil {
				state, fd = wantDirSync, m[1]
			}
		case wantDirSync:
			if strings.Contains(line, "fsync("+fd+")") || strings.Contains(line, "fsync("+fd+" ") {
				state = done
			}
		}
	}
	if state != done {
		t.Fatalf("FileStore.Save is not durable: stopped at step %d of 5 (open temp, fsync it, rename, open dir, fsync dir); trace:\n%s", state+1, trace)
	}
}

// TestMountedStore: the kubeconfig is read from the file; a renewal goes to
// the Secret when it exists (the file, a read-only mount in a pod, is left
// to the kubelet) and to the file when it does not.
func TestMountedStore(t *testing.T) {
	env := testenv.Require(t)
	ctx := t.Context()
	kube := kubernetes.NewForConfigOrDie(env.Hub.Config)
	const ns = "mounted-store"
	if _, err := kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	path := filepath.Join(t.TempDir(), bootstrap.KubeconfigSecretKey)
	if err := os.WriteFile(path, []byte("mounted"), 0o600); err != nil {
		t.Fatal(err)
	}
	store := bootstrap.NewMountedStore(path, bootstrap.NewSecretStore(kube, ns, bootstrap.KubeconfigSecretName, bootstrap.KubeconfigSecretKey))
	if got, err := store.Load(ctx); err != nil || string(got) != "mounted" {
		t.Fatalf("Load = %q, %v; want the file's content", got, err)
	}

	// No Secret: the renewal goes to the file.
	if err := store.Save(ctx, []byte("renewed-1")); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "renewed-1" {
		t.Fatalf("without the Secret the file holds %q, want the renewal", got)
	}

	// With the Secret: the renewal goes to the Secret, other keys stay, the file is untouched.
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: bootstrap.KubeconfigSecretName, Namespace: ns},
		Data: map[string][]byte{bootstrap.KubeconfigSecretKey: []byte("mounted"), "other": []byte("kept")}}
	if _, err := kube.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := store.Save(ctx, []byte("renewed-2")); err != nil {
		t.Fatal(err)
	}
	got, err := kube.CoreV1().Secrets(ns).Get(ctx, bootstrap.KubeconfigSecretName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data[bootstrap.KubeconfigSecretKey]) != "renewed-2" || string(got.Data["other"]) != "kept" {
		t.Fatalf("Secret after Save: %q / %q, want the renewal and the other key kept", got.Data[bootstrap.KubeconfigSecretKey], got.Data["other"])
	}
	if f, _ := os.ReadFile(path); string(f) != "renewed-1" {
		t.Fatalf("with the Secret the file changed to %q", f)
	}
}

// TestSecretStoreKeepsNameAndKeyApart: the store reads and writes the key
// it was given in the Secret it was given, with a name and a key that
// differ (karmada-kubeconfig is both, so a swap there changes nothing: this
// is the test that fails when the two are swapped inside the store).
func TestSecretStoreKeepsNameAndKeyApart(t *testing.T) {
	env := testenv.Require(t)
	ctx := t.Context()
	kube := kubernetes.NewForConfigOrDie(env.Hub.Config)
	const ns, name, key = "secret-store", "hub-creds", "config"
	testenv.NoError(t, testenv.IgnoreExists(kube.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})))
	t.Cleanup(func() { _ = kube.CoreV1().Namespaces().Delete(context.Background(), ns, metav1.DeleteOptions{}) })
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Data: map[string][]byte{key: []byte("right"), name: []byte("wrong")}}
	testenv.NoError(t, testenv.IgnoreExists(kube.CoreV1().Secrets(ns).Create(ctx, secret, metav1.CreateOptions{})))

	store := bootstrap.NewSecretStore(kube, ns, name, key)
	if got, err := store.Load(ctx); err != nil || string(got) != "right" {
		t.Fatalf("Load = %q, %v; want key %s of Secret %s", got, err, key, name)
	}
	if err := store.Save(ctx, []byte("renewed")); err != nil {
		t.Fatal(err)
	}
	got, err := kube.CoreV1().Secrets(ns).Get(ctx, name, metav1.GetOptions{})
	got = testenv.Must(t, got, err)
	if string(got.Data[key]) != "renewed" || string(got.Data[name]) != "wrong" {
		t.Fatalf("after Save: key %s = %q, key %s = %q; want only %s renewed", key, got.Data[key], name, got.Data[name], key)
	}
}
