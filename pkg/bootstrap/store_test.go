package bootstrap_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/tether-io/tether/pkg/bootstrap"
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
