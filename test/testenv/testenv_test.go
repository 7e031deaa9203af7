package testenv

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
)

func skipWithoutEnv(t *testing.T) {
	if os.Getenv("TESTENV_SKIP") != "" {
		t.Skip("TESTENV_SKIP is set")
	}
}

// TestBuildIsCached runs the build script again and checks it rebuilt nothing.
func TestBuildIsCached(t *testing.T) {
	skipWithoutEnv(t)
	o := Options{}
	o.defaults()
	if err := ensureBinaries(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	before := map[string]time.Time{}
	for _, b := range []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok"} {
		fi, err := os.Stat(filepath.Join(o.Bin, b))
		if err != nil {
			t.Fatal(err)
		}
		before[b] = fi.ModTime()
	}
	cmd := exec.Command(filepath.Join(RepoRoot(), "hack", "build-testenv.sh"))
	cmd.Env = append(os.Environ(), "TESTENV_BIN="+o.Bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if n := strings.Count(string(out), "up to date"); n != 3 {
		t.Errorf("want k8s, etcd and kwok reported up to date, got:\n%s", out)
	}
	for b, mtime := range before {
		fi, _ := os.Stat(filepath.Join(o.Bin, b))
		if !fi.ModTime().Equal(mtime) {
			t.Errorf("%s was rebuilt", b)
		}
	}
}

// TestStopLeavesNothing starts a hub, stops it, and checks that no process
// and no directory is left.
func TestStopLeavesNothing(t *testing.T) {
	skipWithoutEnv(t)
	env, err := Start(context.Background(), Options{HubOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := kubernetes.NewForConfigOrDie(env.Hub.Config).Discovery().ServerVersion(); err != nil {
		t.Fatalf("hub does not answer: %v", err)
	}
	procs := env.Processes
	if err := env.Stop(); err != nil {
		t.Fatal(err)
	}
	assertGone(t, procs, env.Dir, env.EtcdData)
}

// TestAttachAndDown starts a detached environment as the standalone command
// does, attaches to it (Stop on an attached environment stops nothing), and
// stops it with Down.
func TestAttachAndDown(t *testing.T) {
	skipWithoutEnv(t)
	env, err := Start(context.Background(), Options{HubOnly: true, Detached: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = Down(env.Dir) })
	attached, err := Attach(env.Dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := attached.Stop(); err != nil {
		t.Fatal(err)
	}
	if _, err := kubernetes.NewForConfigOrDie(attached.Hub.Config).Discovery().ServerVersion(); err != nil {
		t.Fatalf("attached hub does not answer after Stop on the attached handle: %v", err)
	}
	if err := Down(env.Dir); err != nil {
		t.Fatal(err)
	}
	assertGone(t, attached.Processes, env.Dir, env.EtcdData)
}

// TestKilledOwnerTakesItsProcesses re-runs this test binary as a child that
// starts a hub and is then killed with SIGKILL, as a panicking or timed-out
// test binary would die. Its control-plane processes must die with it, and
// the next Start must remove its directories.
func TestKilledOwnerTakesItsProcesses(t *testing.T) {
	skipWithoutEnv(t)
	if os.Getenv("TESTENV_HELPER_CHILD") != "" {
		env, err := Start(context.Background(), Options{HubOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		os.Stdout.WriteString("DIR " + env.Dir + "\n")
		select {} // wait to be killed
	}
	child := exec.Command(os.Args[0], "-test.run=^TestKilledOwnerTakesItsProcesses$", "-test.timeout=5m")
	child.Env = append(os.Environ(), "TESTENV_HELPER_CHILD=1")
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	var dir string
	scanner := bufio.NewScanner(stdout)
	for scanner.Scan() {
		if d, ok := strings.CutPrefix(scanner.Text(), "DIR "); ok {
			dir = d
			break
		}
	}
	if dir == "" {
		_ = child.Process.Kill()
		t.Fatalf("child did not start an environment: %v", child.Wait())
	}
	env, err := readState(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(env.Processes) < 3 {
		t.Fatalf("child recorded %d processes", len(env.Processes))
	}
	_ = child.Process.Kill()
	_ = child.Wait()
	reapStale()
	assertGone(t, env.Processes, dir, env.EtcdData)
}

func assertGone(t *testing.T, procs []*Process, dirs ...string) {
	t.Helper()
	err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 15*time.Second, true, func(context.Context) (bool, error) {
		for _, p := range procs {
			q := &Process{Name: p.Name, Pid: p.Pid, Exe: p.Exe} // check through /proc, not the Wait channel
			if q.alive() {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		for _, p := range procs {
			q := &Process{Name: p.Name, Pid: p.Pid, Exe: p.Exe}
			if q.alive() {
				t.Errorf("%s (pid %d) still running", p.Name, p.Pid)
			}
		}
	}
	for _, d := range dirs {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s still exists", d)
		}
	}
	if len(procs) == 0 {
		t.Error("no processes were recorded")
	}
}
