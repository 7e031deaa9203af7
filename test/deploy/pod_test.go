package deploy

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"k8s.io/utils/ptr"

	"github.com/tether-io/tether/test/testenv"
)

// pod runs the first container of a rendered pod template as a local
// process, as the kubelet would start it: kwok runs no containers. It keeps
// the container's command and environment and differs only where a process
// on the test machine must:
//   - the command's first word, tether-agent, is the built binary;
//   - $(VAR) in the command is expanded from the container's environment,
//     whose secretKeyRef and resourceFieldRef values are resolved the
//     kubelet's way (the Secret read from the cluster, the limit in bytes);
//   - each Secret volume is written to a temporary directory, and its mount
//     path in the command is replaced by that directory;
//   - the in-cluster configuration is a kubeconfig for the pod's
//     ServiceAccount (a TokenRequest token), passed with --kubeconfig, so
//     the process has exactly the rights the pod would;
//   - replace swaps whole arguments (listen addresses: a pod has its own
//     network namespace, the test machine does not).
type pod struct {
	cluster   *testenv.Cluster
	namespace string
	spec      corev1.PodSpec
	replace   map[string]string
}

// podOf decodes the pod template of a rendered Deployment or Job.
func podOf(t *testing.T, obj *unstructured.Unstructured) corev1.PodSpec {
	t.Helper()
	tmpl, _, err := unstructured.NestedMap(obj.Object, "spec", "template")
	if err != nil {
		t.Fatal(err)
	}
	var pt corev1.PodTemplateSpec
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(tmpl, &pt); err != nil {
		t.Fatalf("decode the pod template of %s %s: %v", obj.GetKind(), obj.GetName(), err)
	}
	return pt.Spec
}

// process is a started pod.
type process struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
	err  error
}

// start starts the process; it is stopped when the test ends, and its log
// printed if the test failed.
func (p pod) start(t *testing.T, ctx context.Context, name string) *process {
	t.Helper()
	dir := t.TempDir()
	c := p.spec.Containers[0]
	cs, err := kubernetes.NewForConfig(p.cluster.Config)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	vars := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for _, e := range c.Env {
		env[e.Name] = p.envValue(t, ctx, cs, c, e)
		vars = append(vars, e.Name+"="+env[e.Name])
	}
	mounts := p.writeVolumes(t, ctx, cs, c, dir)
	args := p.args(c, env, mounts)
	args = append(args, "--kubeconfig="+p.serviceAccountKubeconfig(t, ctx, cs, dir))
	proc := &process{log: filepath.Join(dir, name+".log"), done: make(chan struct{})}
	logFile, err := os.Create(proc.log)
	if err != nil {
		t.Fatal(err)
	}
	proc.cmd = exec.Command(string(tetherAgent), args...)
	proc.cmd.Env, proc.cmd.Stdout, proc.cmd.Stderr = vars, logFile, logFile
	proc.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := proc.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		proc.err = proc.cmd.Wait()
		logFile.Close()
		close(proc.done)
	}()
	t.Cleanup(func() {
		_ = proc.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-proc.done:
		case <-time.After(30 * time.Second):
			_ = proc.cmd.Process.Kill()
			<-proc.done
		}
		if t.Failed() {
			out, _ := os.ReadFile(proc.log)
			t.Logf("%s (%s):\n%s", name, strings.Join(proc.cmd.Args, " "), tail(string(out), 40))
		}
	})
	return proc
}

// wait waits for the process to exit and returns its error and output.
func (p *process) wait(timeout time.Duration) (string, error) {
	select {
	case <-p.done:
	case <-time.After(timeout):
		return p.output(), fmt.Errorf("still running after %s", timeout)
	}
	return p.output(), p.err
}

func (p *process) output() string {
	out, _ := os.ReadFile(p.log)
	return string(out)
}

func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

var varRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// args is the container's command without its first word, with $(VAR)
// expanded, mount paths moved and the replacements made.
func (p pod) args(c corev1.Container, env, mounts map[string]string) []string {
	var out []string
	for _, a := range append(c.Command[1:], c.Args...) {
		a = varRef.ReplaceAllStringFunc(a, func(ref string) string {
			if v, ok := env[ref[2:len(ref)-1]]; ok {
				return v
			}
			return ref
		})
		for from, to := range mounts {
			a = strings.ReplaceAll(a, from+"/", to+"/")
		}
		if r, ok := p.replace[a]; ok {
			a = r
		}
		out = append(out, a)
	}
	return out
}

func (p pod) envValue(t *testing.T, ctx context.Context, cs kubernetes.Interface, c corev1.Container, e corev1.EnvVar) string {
	t.Helper()
	switch {
	case e.ValueFrom == nil:
		return e.Value
	case e.ValueFrom.SecretKeyRef != nil:
		ref := e.ValueFrom.SecretKeyRef
		s, err := cs.CoreV1().Secrets(p.namespace).Get(ctx, ref.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatalf("env %s: %v", e.Name, err)
		}
		return string(s.Data[ref.Key])
	case e.ValueFrom.ResourceFieldRef != nil:
		res := strings.TrimPrefix(e.ValueFrom.ResourceFieldRef.Resource, "limits.")
		q, ok := c.Resources.Limits[corev1.ResourceName(res)]
		if !ok {
			t.Fatalf("env %s: the container has no %s limit", e.Name, res)
		}
		return fmt.Sprint(q.Value())
	}
	t.Fatalf("env %s: a source the test does not resolve", e.Name)
	return ""
}

// writeVolumes writes the Secret volumes the container mounts, once the
// Secrets exist, and returns mount path -> directory.
func (p pod) writeVolumes(t *testing.T, ctx context.Context, cs kubernetes.Interface, c corev1.Container, dir string) map[string]string {
	t.Helper()
	mounts := map[string]string{}
	for _, m := range c.VolumeMounts {
		for _, v := range p.spec.Volumes {
			if v.Name != m.Name || v.Secret == nil {
				continue
			}
			var secret *corev1.Secret
			testenv.Eventually(t, 3*time.Minute, "Secret "+v.Secret.SecretName+" of volume "+v.Name, func() (bool, error) {
				var err error
				secret, err = cs.CoreV1().Secrets(p.namespace).Get(ctx, v.Secret.SecretName, metav1.GetOptions{})
				return err == nil, err
			})
			vdir := filepath.Join(dir, "volumes", v.Name)
			if err := os.MkdirAll(vdir, 0o700); err != nil {
				t.Fatal(err)
			}
			for k, data := range secret.Data {
				if err := os.WriteFile(filepath.Join(vdir, k), data, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			mounts[m.MountPath] = vdir
		}
	}
	return mounts
}

// serviceAccountKubeconfig writes a kubeconfig with a token of the pod's
// ServiceAccount, what the in-cluster configuration would carry.
func (p pod) serviceAccountKubeconfig(t *testing.T, ctx context.Context, cs kubernetes.Interface, dir string) string {
	t.Helper()
	tr, err := cs.CoreV1().ServiceAccounts(p.namespace).CreateToken(ctx, p.spec.ServiceAccountName,
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token of ServiceAccount %s/%s: %v", p.namespace, p.spec.ServiceAccountName, err)
	}
	ca, err := os.ReadFile(filepath.Join(p.cluster.PKIDir, "ca.crt"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["in-cluster"] = &clientcmdapi.Cluster{Server: p.cluster.URL, CertificateAuthorityData: ca}
	cfg.AuthInfos["sa"] = &clientcmdapi.AuthInfo{Token: tr.Status.Token}
	cfg.Contexts["in-cluster"] = &clientcmdapi.Context{Cluster: "in-cluster", AuthInfo: "sa"}
	cfg.CurrentContext = "in-cluster"
	path := filepath.Join(dir, "serviceaccount.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		t.Fatal(err)
	}
	return path
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
