package hubaccess

import (
	"strings"
	"testing"
)

func TestCredentialsSecretsAreAskedForInTheClusterNamespace(t *testing.T) {
	w := where{cluster: "m1", clusterNamespace: "creds"}
	for p, name := range map[Permission]string{CredentialsSecretGet: "m1", CredentialsSecretPatch: "m1",
		ImpersonatorSecretGet: "m1-impersonator", ImpersonatorSecretPatch: "m1-impersonator", SecretCreate: ""} {
		a := p.attributesIn(w)
		if a.Namespace != "creds" || a.Name != name || a.Resource != "secrets" || a.Group != "" {
			t.Errorf("%s: %+v, want secrets %q in creds", p, a, name)
		}
	}
	if a := CredentialsSecretGet.attributes("m1"); a.Namespace != "karmada-cluster" {
		t.Errorf("default cluster namespace: %+v", a)
	}
}

func TestMissingCredentialsPermissionsAreGrantedByName(t *testing.T) {
	s := Without(ImpersonatorSecretPatch, SecretCreate)
	s.clusterNamespace = "creds"
	r := Assess("m1", s, Needs{Credentials: true, Impersonator: true}.Tasks())
	if len(r.Missing) != 2 || r.Missing[0].Task.ID != ReportCredentials.ID || r.Missing[1].Task.ID != ReportImpersonator.ID {
		t.Fatalf("missing %+v", r.Missing)
	}
	msg := r.Message()
	for _, want := range []string{
		"kubectl create role tether:agent:m1:credentials -n creds --verb=get,patch --resource=secrets --resource-name=m1 && " +
			"kubectl create rolebinding tether:agent:m1:credentials -n creds --role=tether:agent:m1:credentials --user=system:karmada:agent:m1",
		"kubectl create role tether:agent:m1:credentials-2 -n creds --verb=create --resource=secrets && ",
		"kubectl create role tether:agent:m1:impersonator -n creds --verb=get,patch --resource=secrets --resource-name=m1-impersonator && ",
		"(--report-secrets=KubeCredentials)", "(--report-secrets=KubeImpersonator)",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("the message lacks %q:\n%s", want, msg)
		}
	}
	if got := len(Needs{}.Tasks()); got != 0 {
		t.Errorf("nothing reported, %d tasks", got)
	}
}
