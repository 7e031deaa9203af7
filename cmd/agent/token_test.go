package main

import (
	"bytes"
	"strings"
	"testing"

	"k8s.io/client-go/kubernetes"

	"github.com/tether-io/tether/pkg/register/hub"
	"github.com/tether-io/tether/test/testenv"
)

// runCLI runs the CLI in-process and returns stdout, stderr and the error.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCommand()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.ExecuteContext(t.Context())
	return out.String(), errOut.String(), err
}

// TestTokenCreateBindsByDefault: --print-register-command refuses to make
// a token for any cluster unless told so, before contacting the hub.
func TestTokenCreateBindsByDefault(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--print-register-command"}, []string{"--cluster-name", "--any-cluster"}},
		{[]string{"--print-register-command", "--any-cluster", "--cluster-name", "edge-1"}, []string{"--any-cluster and --cluster-name=edge-1"}},
	} {
		args := append([]string{"token", "create", "--kubeconfig", "/nonexistent/hub.kubeconfig"}, tc.args...)
		_, _, err := runCLI(t, args...)
		for _, want := range tc.want {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%v: want an error naming %s, got %v", tc.args, want, err)
			}
		}
	}
}

// TestTokenCreateOnHub: the token of a printed register command is bound to
// the cluster the command names; --any-cluster makes an unbound one, with
// a warning.
func TestTokenCreateOnHub(t *testing.T) {
	env := testenv.Require(t)
	out, _, err := runCLI(t, "token", "create", "--print-register-command", "--cluster-name", "edge-1", "--kubeconfig", env.Hub.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	words := strings.Fields(out)
	if len(words) < 5 || words[1] != "register" || !strings.HasSuffix(strings.TrimSpace(out), "--cluster-name edge-1") {
		t.Fatalf("printed command %q does not register edge-1", out)
	}
	boundID, _, _ := strings.Cut(words[4], ".")

	out, stderr, err := runCLI(t, "token", "create", "--print-register-command", "--any-cluster", "--kubeconfig", env.Hub.Kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "--cluster-name") || !strings.Contains(stderr, "not bound to a cluster") {
		t.Fatalf("--any-cluster: printed %q, warned %q", out, stderr)
	}
	anyID, _, _ := strings.Cut(strings.Fields(out)[4], ".")

	tokens, err := hub.ListTokens(t.Context(), kubernetes.NewForConfigOrDie(env.Hub.Config))
	if err != nil {
		t.Fatal(err)
	}
	bound := map[string]string{}
	for _, tok := range tokens {
		bound[tok.ID] = tok.Cluster
	}
	if bound[boundID] != "edge-1" || bound[anyID] != "" {
		t.Errorf("token %s bound to %q (want edge-1), token %s bound to %q (want none)", boundID, bound[boundID], anyID, bound[anyID])
	}
}
