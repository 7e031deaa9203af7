package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FreePorts returns n distinct free loopback ports, below the kernel's
// ephemeral range (see freePorts), for processes a test starts itself.
func FreePorts(n int) ([]int, error) { return freePorts(n) }

// AgentBinaryEnv names a tether-agent binary for the tests to run instead of
// building ./cmd/agent: to check that a test fails on an older agent.
const AgentBinaryEnv = "TETHER_E2E_AGENT_BINARY"

// BuildAgent compiles the repository's ./cmd/agent into dir and returns the
// binary's path, or returns the binary AgentBinaryEnv names.
func BuildAgent(dir string) (string, error) {
	if bin := os.Getenv(AgentBinaryEnv); bin != "" {
		return bin, nil
	}
	bin := filepath.Join(dir, "tether-agent")
	build := exec.Command("go", "build", "-o", bin, "./cmd/agent")
	build.Dir = RepoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build tether-agent: %w\n%s", err, out)
	}
	return bin, nil
}

// AgentBinary builds the agent into the test's temporary directory, failing
// the test if it does not build.
func AgentBinary(t testing.TB) string {
	t.Helper()
	bin, err := BuildAgent(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// ProcStatusMiB reads a size field of /proc/<pid>/status ("VmRSS",
// "VmHWM") in MiB, or -1 when it cannot.
func ProcStatusMiB(pid int, field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == field+":" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb >> 10
		}
	}
	return -1
}

// ProcCPUSeconds is the user+system CPU time process pid has used, in
// seconds, or -1 when it cannot be read.
func ProcCPUSeconds(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	// The fields follow the parenthesised command name.
	i := strings.LastIndexByte(string(raw), ')')
	if i < 0 || i+2 >= len(raw) {
		return -1
	}
	f := strings.Fields(string(raw[i+2:]))
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return (u + s) / 100 // USER_HZ is 100 on Linux
}
