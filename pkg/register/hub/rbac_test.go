package hub

import (
	"fmt"
	"slices"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"

	clusterv1alpha1 "github.com/tether-io/tether/pkg/apis/cluster/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
	"github.com/tether-io/tether/pkg/hubaccess"
	"github.com/tether-io/tether/test/karmadafixture"
)

// grantedRules are the rules of the RBAC objects among objs, each with the
// namespace it applies in ("" for a ClusterRole's).
func grantedRules(objs []runtime.Object) []hubaccess.Rule {
	var out []hubaccess.Rule
	for _, obj := range objs {
		switch o := obj.(type) {
		case *rbacv1.ClusterRole:
			for _, r := range o.Rules {
				out = append(out, hubaccess.Rule{PolicyRule: r})
			}
		case *rbacv1.Role:
			for _, r := range o.Rules {
				out = append(out, hubaccess.Rule{Namespace: o.Namespace, PolicyRule: r})
			}
		}
	}
	return out
}

// atoms are the single requests rules allow, as "verb group resource
// namespace/name" ("*" for a namespace or name not restricted).
func atoms(rules []hubaccess.Rule) []string {
	var out []string
	for _, r := range rules {
		ns := r.Namespace
		if ns == "" {
			ns = "*"
		}
		names := r.ResourceNames
		if len(names) == 0 {
			names = []string{"*"}
		}
		for _, g := range r.APIGroups {
			for _, res := range r.Resources {
				for _, v := range r.Verbs {
					for _, n := range names {
						out = append(out, fmt.Sprintf("%s %s %s %s/%s", v, g, res, ns, n))
					}
				}
			}
		}
	}
	return out
}

// declaredAtoms are the requests the agent's declared permissions make, in
// the same form, with the default cluster namespace; a permission of a
// cluster-scoped resource has namespace *, and so has one in a namespace
// that has no Role of the agent's (karmadactl's names give it two: the
// cluster namespace's and the execution namespace's).
func declaredAtoms(cluster string) []string {
	var out []string
	for _, p := range hubaccess.Permissions() {
		a := p.Attributes(cluster, "")
		res := a.Resource
		if a.Subresource != "" {
			res += "/" + a.Subresource
		}
		ns, name := a.Namespace, a.Name
		if ns != clusterv1alpha1.DefaultClusterNamespace && ns != workv1alpha1.ExecutionNamespace(cluster) {
			ns = "*"
		}
		if name == "" {
			name = "*"
		}
		out = append(out, fmt.Sprintf("%s %s %s %s/%s", a.Verb, a.Group, res, ns, name))
	}
	return out
}

// TestGrantIsTheUnionOfTheDeclaredNeeds: the RBAC that register, the
// approver and the tests grant holds every permission some task of the
// agent declares (with the default cluster namespace and another one), and
// nothing else: each single request it allows is a declared permission.
func TestGrantIsTheUnionOfTheDeclaredNeeds(t *testing.T) {
	for _, clusterNamespace := range []string{clusterv1alpha1.DefaultClusterNamespace, "creds"} {
		rules := grantedRules(ClusterAccess{Cluster: "c1", ClusterNamespace: clusterNamespace}.Objects())
		if denied := hubaccess.Evaluate(rules, "c1", clusterNamespace).Denied(); len(denied) > 0 {
			t.Errorf("cluster namespace %s: the grant lacks %v", clusterNamespace, denied)
		}
	}
	declared := declaredAtoms("c1")
	granted := atoms(grantedRules(ClusterAccess{Cluster: "c1"}.Objects()))
	for _, a := range granted {
		if !slices.Contains(declared, a) {
			t.Errorf("the grant allows %q, which no task of the agent declares", a)
		}
	}
	for _, a := range declared {
		if !slices.Contains(granted, a) {
			t.Errorf("the grant lacks %q exactly as declared", a)
		}
	}
}

// TestEveryPermissionBelongsToATask: a permission in the table that no
// task declares would be granted by nothing.
func TestEveryPermissionBelongsToATask(t *testing.T) {
	var used []hubaccess.Permission
	for _, task := range hubaccess.AllTasks() {
		for _, alt := range task.AnyOf {
			used = append(used, alt...)
		}
	}
	for _, p := range hubaccess.Permissions() {
		if !slices.Contains(used, p) {
			t.Errorf("%s is in no task", p)
		}
	}
}

// karmadaGrant is the RBAC a Karmada control plane grants the agent of
// cluster (test/karmadafixture), as objects.
func karmadaGrant(t *testing.T, cluster string) []runtime.Object {
	var out []runtime.Object
	items := karmadafixture.Items(t, karmadafixture.HubRBAC, cluster)
	for kind, list := range items {
		for _, u := range list {
			var obj runtime.Object
			switch kind {
			case "ClusterRole":
				obj = &rbacv1.ClusterRole{}
			case "ClusterRoleBinding":
				obj = &rbacv1.ClusterRoleBinding{}
			case "Role":
				obj = &rbacv1.Role{}
			case "RoleBinding":
				obj = &rbacv1.RoleBinding{}
			default:
				t.Fatalf("unexpected %s in the Karmada grant", kind)
			}
			karmadafixture.Into(t, u, obj)
			out = append(out, obj)
		}
	}
	return out
}

// TestGrantStaysCompatibleWithKarmada: Tether grants under the names
// Karmada's control plane grants (so that 'karmadactl unregister' removes
// it), and Karmada's grant lets the agent do every task of a default agent
// (overrides rendered Auto), some by a fallback; what it lacks is the
// documented difference (patch instead of update, no policy reads).
func TestGrantStaysCompatibleWithKarmada(t *testing.T) {
	key := func(objs []runtime.Object) []string {
		var out []string
		for _, obj := range objs {
			switch o := obj.(type) {
			case *rbacv1.ClusterRole, *rbacv1.ClusterRoleBinding, *rbacv1.Role, *rbacv1.RoleBinding:
				m := o.(interface {
					GetNamespace() string
					GetName() string
				})
				out = append(out, fmt.Sprintf("%T %s/%s", o, m.GetNamespace(), m.GetName()))
			}
		}
		slices.Sort(out)
		return out
	}
	karmada := karmadaGrant(t, "c1")
	if got, want := key(ClusterAccess{Cluster: "c1"}.Objects()), key(karmada); !slices.Equal(got, want) {
		t.Errorf("Tether grants\n  %v\nKarmada grants\n  %v", got, want)
	}
	var rules []hubaccess.Rule
	for ns, nsRules := range karmadafixture.HubRules(t, "c1") {
		for _, r := range nsRules {
			rules = append(rules, hubaccess.Rule{Namespace: ns, PolicyRule: r})
		}
	}
	s := hubaccess.Evaluate(rules, "c1", "")
	needs := hubaccess.Needs{Works: true, ClusterStatus: true, Rotation: true, EndpointSlices: true, Credentials: true, Impersonator: true}
	if r := hubaccess.Assess("c1", s, append(needs.Tasks(), hubaccess.CreateCluster)); len(r.Missing) > 0 {
		t.Errorf("under Karmada's grant the agent cannot: %s", r.Message())
	}
	want := []hubaccess.Permission{hubaccess.ClusterUpdate, hubaccess.ClusterPatch, hubaccess.ClusterStatusPatch, hubaccess.WorkPatch,
		hubaccess.OverridePolicyList, hubaccess.OverridePolicyWatch, hubaccess.ClusterOverridePolicyList, hubaccess.ClusterOverridePolicyWatch, hubaccess.LeaseDelete}
	if got := s.Denied(); !slices.Equal(got, want) {
		t.Errorf("Karmada's grant denies %v, want %v", got, want)
	}
}
