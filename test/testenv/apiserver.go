package testenv

import (
	"context"
	"fmt"
	"syscall"
	"time"
)

// apiserverStopGrace is how long StopAPIServer waits for a graceful exit
// before it kills the apiserver. The testenv kube-apiservers did not exit
// within 30 s of SIGTERM on a loaded machine (they drain open watches), so
// waiting longer only slows fault tests down; the listener closes at once.
const apiserverStopGrace = 10 * time.Second

// apiserver returns the recorded kube-apiserver process of c. etcd is shared
// by all clusters and never stopped by these controls. They work on an
// attached environment too: it is detached, so a restarted apiserver
// outlives the test binary as the first one did.
func (e *Env) apiserver(c *Cluster) (*Process, error) {
	p := e.proc(c.Name + "-apiserver")
	if p == nil {
		return nil, fmt.Errorf("no kube-apiserver recorded for cluster %s", c.Name)
	}
	return p, nil
}

// StopAPIServer stops the cluster's kube-apiserver with SIGTERM and waits
// until it is gone (it is killed after 10 s). Clients then get
// "connection refused" until StartAPIServer.
func (e *Env) StopAPIServer(c *Cluster) error {
	p, err := e.apiserver(c)
	if err != nil {
		return err
	}
	if !p.alive() {
		return fmt.Errorf("the kube-apiserver of %s is not running", c.Name)
	}
	p.Stop(apiserverStopGrace)
	if p.alive() {
		return fmt.Errorf("the kube-apiserver of %s (pid %d) did not stop", c.Name, p.Pid)
	}
	return nil
}

// KillAPIServer ends the cluster's kube-apiserver with SIGKILL, as a crash
// would, and waits until it is gone.
func (e *Env) KillAPIServer(c *Cluster) error {
	p, err := e.apiserver(c)
	if err != nil {
		return err
	}
	if err := p.Kill(); err != nil {
		return fmt.Errorf("kill the kube-apiserver of %s: %w", c.Name, err)
	}
	p.Stop(apiserverStopGrace)
	return nil
}

// StartAPIServer starts the cluster's kube-apiserver again, with the same
// binary, arguments and port (and the same audit log, appended to), and
// waits until /readyz answers ok. The new process is recorded in the state
// like the first and is stopped with the environment.
func (e *Env) StartAPIServer(ctx context.Context, c *Cluster) error {
	old, err := e.apiserver(c)
	if err != nil {
		return err
	}
	if old.alive() {
		return fmt.Errorf("the kube-apiserver of %s is still running (pid %d): stop it first", c.Name, old.Pid)
	}
	p, err := e.spawnEnv(old.Name, nil, old.Exe, old.Args...)
	if err != nil {
		return fmt.Errorf("restart the kube-apiserver of %s: %w", c.Name, err)
	}
	return waitHTTP(ctx, p, c.URL+"/readyz", "ok", 2*time.Minute)
}

// PauseAPIServer freezes the cluster's kube-apiserver with SIGSTOP: its
// port still accepts connections (the kernel completes the handshake) but
// nothing answers, as with a hung server or a black-holed link.
func (e *Env) PauseAPIServer(c *Cluster) error { return e.signalAPIServer(c, syscall.SIGSTOP) }

// ResumeAPIServer continues a paused kube-apiserver with SIGCONT.
func (e *Env) ResumeAPIServer(c *Cluster) error { return e.signalAPIServer(c, syscall.SIGCONT) }

func (e *Env) signalAPIServer(c *Cluster, sig syscall.Signal) error {
	p, err := e.apiserver(c)
	if err != nil {
		return err
	}
	if !p.alive() {
		return fmt.Errorf("the kube-apiserver of %s is not running", c.Name)
	}
	if err := syscall.Kill(p.Pid, sig); err != nil {
		return fmt.Errorf("send %s to the kube-apiserver of %s: %w", sig, c.Name, err)
	}
	return nil
}
