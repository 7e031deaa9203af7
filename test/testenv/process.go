package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is one control-plane process the environment started.
type Process struct {
	Name string `json:"name"`
	Pid  int    `json:"pid"`
	Exe  string `json:"exe"`
	Log  string `json:"log"`
	// Args are the arguments it was started with, so that it can be
	// started again (an apiserver restart).
	Args []string `json:"args,omitempty"`

	done chan struct{} // closed when the process exited (only for processes started by this process)
	code int           // exit code (-1 when killed by a signal), valid once done is closed
}

// spawner starts every child from one goroutine locked to its OS thread.
// Pdeathsig fires when the thread that started a child exits, not the
// process, so children started from ordinary goroutines could be killed when
// the Go runtime retires a thread; a locked thread that never returns avoids that.
type spawner struct {
	once sync.Once
	reqs chan spawnReq
}

type spawnReq struct {
	cmd *exec.Cmd
	err chan error
}

var theSpawner spawner

func (s *spawner) start(cmd *exec.Cmd) error {
	s.once.Do(func() {
		s.reqs = make(chan spawnReq)
		go func() {
			runtime.LockOSThread()
			for r := range s.reqs {
				r.err <- r.cmd.Start()
			}
		}()
	})
	req := spawnReq{cmd: cmd, err: make(chan error, 1)}
	s.reqs <- req
	return <-req.err
}

// startProcess runs exe with args, logging to logDir/name.log. Unless
// detached, the child is killed when the test binary dies for any reason.
func startProcess(name, logDir string, detached bool, exe string, args ...string) (*Process, error) {
	return startProcessEnv(name, logDir, detached, nil, exe, args...)
}

// startProcessEnv is startProcess with extra environment variables. A
// process started again under the same name appends to the same log.
func startProcessEnv(name, logDir string, detached bool, env []string, exe string, args ...string) (*Process, error) {
	logPath := filepath.Join(logDir, name+".log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !detached {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := theSpawner.start(cmd); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start %s (%s): %w", name, exe, err)
	}
	p := &Process{Name: name, Pid: cmd.Process.Pid, Exe: exe, Log: logPath, Args: args, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		logFile.Close()
		close(p.done)
	}()
	return p, nil
}

// alive reports whether the process is still the binary we started (a pid
// may be reused) and has not exited (a zombie counts as exited).
func (p *Process) alive() bool {
	if p.done != nil {
		select {
		case <-p.done:
			return false
		default:
			return true
		}
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.Pid))
	if err != nil || strings.TrimSuffix(exe, " (deleted)") != p.Exe {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.Pid))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	return true
}

// Alive reports whether the process still runs.
func (p *Process) Alive() bool { return p.alive() }

// Exited reports whether the process has exited and, if so, its exit code
// (-1 when a signal ended it). Only for processes this test binary started.
func (p *Process) Exited() (code int, done bool) {
	if p.done == nil {
		return 0, !p.alive()
	}
	select {
	case <-p.done:
		return p.code, true
	default:
		return 0, false
	}
}

// Kill sends SIGKILL, as a crash would end it.
func (p *Process) Kill() error { return syscall.Kill(p.Pid, syscall.SIGKILL) }

// Stop sends SIGTERM and waits up to grace for it to exit.
func (p *Process) Stop(grace time.Duration) { stopProcesses([]*Process{p}, grace) }

// stopProcesses sends SIGTERM to all, waits up to grace, then SIGKILLs what is left.
func stopProcesses(procs []*Process, grace time.Duration) {
	for _, p := range procs {
		if p.alive() {
			_ = syscall.Kill(p.Pid, syscall.SIGTERM)
			// A paused process (PauseAPIServer) handles SIGTERM only once continued.
			_ = syscall.Kill(p.Pid, syscall.SIGCONT)
		}
	}
	deadline := time.Now().Add(grace)
	for {
		left := 0
		for _, p := range procs {
			if p.alive() {
				left++
				if time.Now().After(deadline) {
					_ = syscall.Kill(p.Pid, syscall.SIGKILL)
				}
			}
		}
		if left == 0 {
			return
		}
		if time.Now().After(deadline.Add(5 * time.Second)) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// tail returns the last n lines of a log file, for error messages.
func tail(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
