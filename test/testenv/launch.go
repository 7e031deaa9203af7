package testenv

import (
	"context"
	"crypto/tls"
	_ "embed"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// kwokStages is kwok's default stage set (node-initialize, lease heartbeat,
// pod-ready, pod-complete, pod-delete) from sigs.k8s.io/kwok v0.8.0; the bare
// kwok binary has no built-in stages.
//
//go:embed kwok-stages.yaml
var kwokStages []byte

const (
	serviceCIDR = "10.96.0.0/16"
	serviceIP   = "10.96.0.1"
)

// clusterPorts are the ports of one cluster's components.
type clusterPorts struct{ apiserver, kcm, scheduler, kwok int }

func ensureBinaries(ctx context.Context, o Options) error {
	need := []string{"kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kwok"}
	missing := false
	for _, b := range need {
		if _, err := os.Stat(filepath.Join(o.Bin, b)); err != nil {
			missing = true
		}
	}
	if !missing {
		return nil
	}
	o.Log("building control-plane binaries into %s (cold: ~10 min)", o.Bin)
	cmd := exec.CommandContext(ctx, filepath.Join(RepoRoot(), "hack", "build-testenv.sh"))
	cmd.Env = append(os.Environ(), "TESTENV_BIN="+o.Bin)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("hack/build-testenv.sh: %w\n%s", err, out)
	}
	return nil
}

// freePorts returns n distinct ports that nothing listens on, taken below the
// kernel's ephemeral range so an outgoing connection cannot grab one first.
func freePorts(n int) ([]int, error) {
	lo := 32768
	if raw, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(raw)); len(f) > 0 {
			if v, err := strconv.Atoi(f[0]); err == nil {
				lo = v
			}
		}
	}
	seen := map[int]bool{}
	var out []int
	for tries := 0; len(out) < n && tries < 10000; tries++ {
		p := 10000 + rand.IntN(lo-10000)
		if seen[p] {
			continue
		}
		seen[p] = true
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err != nil {
			continue
		}
		l.Close()
		out = append(out, p)
	}
	if len(out) < n {
		return nil, fmt.Errorf("found only %d free loopback ports of %d", len(out), n)
	}
	return out, nil
}

func (e *Env) launch(ctx context.Context, o Options) error {
	names := []string{"hub"}
	for i := 1; i <= o.Members; i++ {
		names = append(names, fmt.Sprintf("member%d", i))
	}
	ports, err := freePorts(2 + 4*len(names))
	if err != nil {
		return err
	}
	etcdClient, etcdPeer := ports[0], ports[1]
	logDir := filepath.Join(e.Dir, "logs")
	if err := os.MkdirAll(logDir, 0o700); err != nil {
		return err
	}
	shm := "/dev/shm"
	if _, err := os.Stat(shm); err != nil {
		shm = e.Dir
	}
	if e.EtcdData, err = os.MkdirTemp(shm, "tether-testenv-etcd-"); err != nil {
		return err
	}
	start := func(name, exe string, args ...string) (*Process, error) {
		p, err := startProcess(name, logDir, o.Detached, filepath.Join(o.Bin, exe), args...)
		if err != nil {
			return nil, err
		}
		return p, e.track(p)
	}

	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	etcd, err := start("etcd", "etcd", "--name=etcd", "--data-dir="+e.EtcdData,
		"--listen-client-urls="+etcdURL, "--advertise-client-urls="+etcdURL,
		"--listen-peer-urls="+peerURL, "--initial-advertise-peer-urls="+peerURL,
		"--initial-cluster=etcd="+peerURL, "--initial-cluster-state=new",
		"--listen-metrics-urls=", "--log-level=warn", "--unsafe-no-fsync")
	if err != nil {
		return err
	}
	if err := waitHTTP(ctx, etcd, etcdURL+"/health", `"health":"true"`, 30*time.Second); err != nil {
		return err
	}
	o.Log("etcd healthy")

	cps := make([]clusterPorts, len(names))
	for i, name := range names {
		cps[i] = clusterPorts{ports[2+4*i], ports[3+4*i], ports[4+4*i], ports[5+4*i]}
		c, err := e.startAPIServer(name, cps[i].apiserver, etcdURL, start)
		if err != nil {
			return err
		}
		if name == "hub" {
			e.Hub = c
		} else {
			e.Members = append(e.Members, c)
		}
	}
	for i, c := range e.clusters() {
		if err := waitHTTP(ctx, e.proc(c.Name+"-apiserver"), c.URL+"/readyz", "ok", 2*time.Minute); err != nil {
			return err
		}
		if c.Config, err = restConfig(c.Kubeconfig); err != nil {
			return err
		}
		o.Log("%s apiserver ready at %s", c.Name, c.URL)
		if err := e.startControllers(c, cps[i], c.Name == "hub", start); err != nil {
			return err
		}
	}
	return e.prepare(ctx, o, cps)
}

func (e *Env) proc(name string) *Process {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, p := range e.Processes {
		if p.Name == name {
			return p
		}
	}
	return nil
}

type starter func(name, exe string, args ...string) (*Process, error)

func (e *Env) startAPIServer(name string, port int, etcdURL string, start starter) (*Cluster, error) {
	pki := filepath.Join(e.Dir, "pki", name)
	ca, err := newAuthority(name + "-ca")
	if err != nil {
		return nil, err
	}
	frontCA, err := newAuthority(name + "-front-proxy-ca")
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{}
	issue := func(file, cn string, groups []string, a *authority, serving bool) error {
		var ips []net.IP
		var dns []string
		if serving {
			ips = []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(serviceIP)}
			dns = []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
		}
		crt, key, err := a.issue(cn, groups, ips, dns)
		files[file+".crt"], files[file+".key"] = crt, key
		return err
	}
	for _, step := range []error{
		ca.save(pki, "ca"), frontCA.save(pki, "front-proxy-ca"), serviceAccountKey(pki),
		issue("apiserver", "kube-apiserver", nil, ca, true),
		issue("admin", "tether-testenv-admin", []string{"system:masters"}, ca, false),
		issue("kcm", "system:kube-controller-manager", nil, ca, false),
		issue("scheduler", "system:kube-scheduler", nil, ca, false),
		issue("front-proxy-client", "front-proxy-client", nil, frontCA, false),
	} {
		if step != nil {
			return nil, step
		}
	}
	if err := writeFiles(pki, files); err != nil {
		return nil, err
	}
	url := fmt.Sprintf("https://127.0.0.1:%d", port)
	c := &Cluster{Name: name, URL: url, PKIDir: pki, Kubeconfig: filepath.Join(e.Dir, name+".kubeconfig")}
	for file, user := range map[string]string{c.Kubeconfig: "admin", filepath.Join(pki, "kcm.kubeconfig"): "kcm", filepath.Join(pki, "scheduler.kubeconfig"): "scheduler"} {
		if err := writeKubeconfig(file, name, url, ca.certPEM, files[user+".crt"], files[user+".key"]); err != nil {
			return nil, err
		}
	}
	p := func(f string) string { return filepath.Join(pki, f) }
	args := []string{
		"--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", port),
		"--tls-cert-file=" + p("apiserver.crt"), "--tls-private-key-file=" + p("apiserver.key"),
		"--client-ca-file=" + p("ca.crt"),
		"--etcd-servers=" + etcdURL, "--etcd-prefix=/tether-testenv/" + name,
		"--service-account-issuer=" + url,
		"--service-account-key-file=" + p("sa.pub"), "--service-account-signing-key-file=" + p("sa.key"),
		"--service-cluster-ip-range=" + serviceCIDR,
		"--authorization-mode=Node,RBAC",
		"--requestheader-client-ca-file=" + p("front-proxy-ca.crt"), "--requestheader-allowed-names=front-proxy-client",
		"--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
		"--requestheader-extra-headers-prefix=X-Remote-Extra-",
		"--proxy-client-cert-file=" + p("front-proxy-client.crt"), "--proxy-client-key-file=" + p("front-proxy-client.key"),
		// The kubernetes Endpoints may not point at loopback; nothing here needs them.
		"--endpoint-reconciler-type=none",
		"--allow-privileged=true", "--profiling=" + profiling(),
	}
	if name == "hub" {
		args = append(args, "--enable-bootstrap-token-auth=true")
	}
	if e.audit {
		flags, err := e.auditFlags(c)
		if err != nil {
			return nil, err
		}
		args = append(args, flags...)
	}
	if _, err := start(name+"-apiserver", "kube-apiserver", args...); err != nil {
		return nil, err
	}
	return c, nil
}

// Controllers of each side. bootstrap-signer and token-cleaner are off by
// default and must be named; node-lifecycle lifts the not-ready taint that
// TaintNodesByCondition puts on new Nodes, else nothing schedules.
const (
	hubControllers    = "bootstrap-signer-controller,token-cleaner-controller,certificatesigningrequest-signing-controller,certificatesigningrequest-cleaner-controller,namespace-controller,garbage-collector-controller,serviceaccount-controller,serviceaccount-token-controller"
	memberControllers = "deployment-controller,replicaset-controller,daemonset-controller,statefulset-controller,job-controller,namespace-controller,garbage-collector-controller,serviceaccount-controller,serviceaccount-token-controller,node-lifecycle-controller"
)

func (e *Env) startControllers(c *Cluster, ports clusterPorts, hub bool, start starter) error {
	p := func(f string) string { return filepath.Join(c.PKIDir, f) }
	controllers := memberControllers
	if hub {
		controllers = hubControllers
	}
	if _, err := start(c.Name+"-kcm", "kube-controller-manager",
		"--kubeconfig="+p("kcm.kubeconfig"),
		"--authentication-kubeconfig="+p("kcm.kubeconfig"), "--authorization-kubeconfig="+p("kcm.kubeconfig"),
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", ports.kcm),
		"--leader-elect=false", "--use-service-account-credentials=true",
		"--controllers="+controllers,
		"--root-ca-file="+p("ca.crt"), "--service-account-private-key-file="+p("sa.key"),
		"--cluster-signing-cert-file="+p("ca.crt"), "--cluster-signing-key-file="+p("ca.key"),
		// Defaults are 20 QPS / burst 30, which a benchmark of thousands of
		// Deployments turns into minutes of ReplicaSet and pod creation.
		"--kube-api-qps=200", "--kube-api-burst=400",
		"--cluster-name="+c.Name, "--profiling=false"); err != nil {
		return err
	}
	if hub {
		return nil
	}
	if _, err := start(c.Name+"-scheduler", "kube-scheduler",
		"--kubeconfig="+p("scheduler.kubeconfig"),
		"--authentication-kubeconfig="+p("scheduler.kubeconfig"), "--authorization-kubeconfig="+p("scheduler.kubeconfig"),
		"--bind-address=127.0.0.1", fmt.Sprintf("--secure-port=%d", ports.scheduler),
		"--kube-api-qps=200", "--kube-api-burst=400",
		"--leader-elect=false", "--profiling=false"); err != nil {
		return err
	}
	stages := filepath.Join(e.Dir, "kwok-stages.yaml")
	if err := os.WriteFile(stages, kwokStages, 0o600); err != nil {
		return err
	}
	_, err := start(c.Name+"-kwok", "kwok",
		"--kubeconfig="+c.Kubeconfig, "--config="+stages,
		"--manage-all-nodes=false", "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
		"--node-ip=10.240.0.1", "--cidr=10.244.0.0/16", "--node-lease-duration-seconds=40",
		fmt.Sprintf("--server-address=127.0.0.1:%d", ports.kwok))
	return err
}

var insecureHTTP = sync.OnceValue(func() *http.Client {
	return &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
})

// waitHTTP polls url until its body contains want, failing early when the
// process exits; the error carries the tail of its log.
func waitHTTP(ctx context.Context, p *Process, url, want string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := insecureHTTP().Get(url)
		if err == nil {
			body := make([]byte, 512)
			n, _ := resp.Body.Read(body)
			resp.Body.Close()
			if strings.Contains(string(body[:n]), want) {
				return nil
			}
		}
		if !p.alive() {
			return fmt.Errorf("%s exited before %s answered; last log lines:\n%s", p.Name, url, tail(p.Log, 30))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s: %s not ready after %s; last log lines:\n%s", p.Name, url, timeout, tail(p.Log, 30))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// writeKubeconfig writes a kubeconfig with one cluster, user and context.
func writeKubeconfig(path, cluster, server string, caPEM, certPEM, keyPEM []byte) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters[cluster] = &clientcmdapi.Cluster{Server: server, CertificateAuthorityData: caPEM}
	cfg.AuthInfos[cluster] = &clientcmdapi.AuthInfo{ClientCertificateData: certPEM, ClientKeyData: keyPEM}
	cfg.Contexts[cluster] = &clientcmdapi.Context{Cluster: cluster, AuthInfo: cluster}
	cfg.CurrentContext = cluster
	return clientcmd.WriteToFile(*cfg, path)
}

// profiling is the apiservers' --profiling value: off unless
// TESTENV_PROFILING is set, so a benchmark's apiservers can be profiled.
func profiling() string {
	return strconv.FormatBool(os.Getenv("TESTENV_PROFILING") != "")
}
