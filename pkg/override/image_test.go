package override

import (
	"testing"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
)

const digest = "sha256:50d858e0985ecc7f60418aaf0cc5ab587f42c2570a884095a9e8ccacd0f6545c"

func TestOverrideImage(t *testing.T) {
	const (
		reg = policyv1alpha1.Registry
		rep = policyv1alpha1.Repository
		tag = policyv1alpha1.Tag
		add = policyv1alpha1.OverriderOpAdd
		rm  = policyv1alpha1.OverriderOpRemove
		rpl = policyv1alpha1.OverriderOpReplace
	)
	tests := []struct {
		name, image string
		component   policyv1alpha1.ImageComponent
		op          policyv1alpha1.OverriderOperator
		value       string
		want, err   string
	}{
		// Registry.
		{"registry add to none", "nginx", reg, add, "registry.example.com", "registry.example.com/nginx", ""},
		{"registry add suffix", "fictional.registry.us/nginx:1.0", reg, add, "-cn", "fictional.registry.us-cn/nginx:1.0", ""},
		{"registry replace keeps spelling", "nginx", reg, rpl, "mirror.example.com", "mirror.example.com/nginx", ""},
		{"registry replace docker.io", "docker.io/library/nginx:1.0", reg, rpl, "mirror.example.com:5000", "mirror.example.com:5000/library/nginx:1.0", ""},
		{"registry remove", "registry.example.com:5000/team/app@" + digest, reg, rm, "", "team/app@" + digest, ""},
		{"registry remove none", "team/app:v1", reg, rm, "", "team/app:v1", ""},
		{"registry localhost", "localhost/app:v1", reg, rpl, "registry.example.com", "registry.example.com/app:v1", ""},
		{"registry replace invalid", "nginx", reg, rpl, "bad registry!", "", "value"},
		// Repository.
		{"repository add", "nginx:1.0", rep, add, "-alpine", "nginx-alpine:1.0", ""},
		{"repository replace", "registry.example.com/nginx:1.0", rep, rpl, "team/busybox", "registry.example.com/team/busybox:1.0", ""},
		{"repository replace uppercase", "nginx", rep, rpl, "Nginx", "", "value"},
		{"repository remove", "registry.example.com/nginx:1.0", rep, rm, "", "", "operator: remove Repository"},
		// Tag.
		{"tag add", "nginx:1.0", tag, add, "-debug", "nginx:1.0-debug", ""},
		{"tag add to none", "nginx", tag, add, "1.20", "nginx:1.20", ""},
		{"tag replace keeps spelling", "nginx", tag, rpl, "1.20", "nginx:1.20", ""},
		{"tag replace on registry with port", "registry.example.com:5000/nginx:1.0", tag, rpl, "1.21", "registry.example.com:5000/nginx:1.21", ""},
		{"tag replace with digest", "nginx:1.0", tag, rpl, digest, "nginx@" + digest, ""},
		{"tag replace drops digest", "nginx:1.0@" + digest, tag, rpl, "2.0", "nginx:2.0", ""},
		{"tag replace unparsable", "nginx:1.0", tag, rpl, "bad tag", "", "value: tag \"bad tag\" does not parse"},
		{"tag replace leading dot", "nginx:1.0", tag, rpl, ".hidden", "", "must start with"},
		{"tag replace slash", "nginx:1.0", tag, rpl, "a/b", "", "contains / or @"},
		{"tag replace too long", "nginx:1.0", tag, rpl, string(make([]byte, 129)), "", "value"},
		{"tag replace short digest", "nginx:1.0", tag, rpl, "sha256:abc", "", "digest \"sha256:abc\" does not parse"},
		{"tag add breaks digest", "nginx@" + digest, tag, add, "zz", "", "does not parse"},
		{"tag remove", "nginx:1.0", tag, rm, "", "nginx", ""},
		{"tag remove digest", "nginx@" + digest, tag, rm, "", "nginx", ""},
		{"tag remove keeps digest", "nginx:1.0@" + digest, tag, rm, "", "nginx@" + digest, ""},
		{"tag remove none", "nginx", tag, rm, "", "nginx", ""},
		// Faults.
		{"unknown component", "nginx", "Host", rpl, "x", "", "component: unknown component"},
		{"unknown operator", "nginx", tag, "set", "x", "", "operator: unknown operator"},
		{"add without value", "nginx", tag, add, "", "", "value: add needs a value"},
		{"replace without value", "nginx", reg, rpl, "", "", "value: replace needs a value"},
		{"current image invalid", "Nginx:1.0", tag, rpl, "1.1", "", "image \"Nginx:1.0\" does not parse"},
		{"current image empty", "", tag, rpl, "1.1", "", "does not parse"},
		{"current image bad component", "team//app", tag, rpl, "1.1", "", `repository component ""`},
		{"current image leading separator", "-app:1", tag, rpl, "1.1", "", `repository component "-app"`},
		{"repository add bad separator", "app", rep, add, "._x", "", "value"},
		{"repository separators", "a.b_c__d---e/f", rep, add, "-g", "a.b_c__d---e/f-g", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &policyv1alpha1.ImageOverrider{Component: tt.component, Operator: tt.op, Value: tt.value}
			got, err := overrideImage(tt.image, o)
			if wantErr(t, err, tt.err) {
				return
			}
			if got != tt.want {
				t.Errorf("overrideImage(%q) = %q, want %q", tt.image, got, tt.want)
			}
		})
	}
}

func TestParseImageKeepsSpelling(t *testing.T) {
	for _, image := range []string{
		"nginx", "nginx:1.0", "library/nginx", "docker.io/nginx", "index.docker.io/library/nginx:latest",
		"localhost:5000/a/b/c:v1", "registry.example.com/x@" + digest, "x:1@" + digest, "[::1]:5000/app",
	} {
		ref, err := parseImage(image)
		if err != nil {
			t.Fatalf("parseImage(%q): %v", image, err)
		}
		if got := ref.String(); got != image {
			t.Errorf("parseImage(%q).String() = %q", image, got)
		}
	}
}

func TestApplyImagePaths(t *testing.T) {
	replaceTag := policyv1alpha1.ImageOverrider{Component: policyv1alpha1.Tag, Operator: policyv1alpha1.OverriderOpReplace, Value: "2.0"}
	tests := []struct {
		kind      string
		predicate string
		wantPaths []string
		err       string
	}{
		{kind: "Pod", wantPaths: []string{"/spec/containers/0/image", "/spec/containers/1/image"}},
		{kind: "ReplicaSet", wantPaths: []string{"/spec/template/spec/containers/0/image", "/spec/template/spec/containers/1/image"}},
		{kind: "Deployment", wantPaths: []string{"/spec/template/spec/containers/0/image", "/spec/template/spec/containers/1/image"}},
		{kind: "DaemonSet", wantPaths: []string{"/spec/template/spec/containers/0/image", "/spec/template/spec/containers/1/image"}},
		{kind: "StatefulSet", wantPaths: []string{"/spec/template/spec/containers/0/image", "/spec/template/spec/containers/1/image"}},
		{kind: "Job", wantPaths: []string{"/spec/template/spec/containers/0/image", "/spec/template/spec/containers/1/image"}},
		{kind: "CronJob"},
		{kind: "Deployment", predicate: "/spec/template/spec/initContainers/0/image", wantPaths: []string{"/spec/template/spec/initContainers/0/image"}},
		{kind: "CronJob", predicate: "/spec/jobTemplate/spec/template/spec/containers/1/image", wantPaths: []string{"/spec/jobTemplate/spec/template/spec/containers/1/image"}},
		{kind: "Deployment", predicate: "/spec/template/spec/containers/5/image", err: "predicate.path: /spec/template/spec/containers/5: index 5 is out of range"},
		{kind: "Deployment", predicate: "/spec/template/spec/containers/0", err: "predicate.path: /spec/template/spec/containers/0 is a object, not a string"},
		{kind: "Deployment", predicate: "spec/template", err: "predicate.path: JSON pointer \"spec/template\" does not start with /"},
	}
	for _, tt := range tests {
		t.Run(tt.kind+tt.predicate, func(t *testing.T) {
			obj := workload(tt.kind, "nginx:1.0", "registry.example.com/sidecar")
			o := replaceTag
			if tt.predicate != "" {
				o.Predicate = &policyv1alpha1.ImagePredicate{Path: tt.predicate}
			}
			edits, err := applyImage(obj, &o)
			if err != nil {
				err = policyError(Change{}, "imageOverrider", atEntry(0, err))
			}
			if wantErr(t, err, tt.err) {
				return
			}
			if len(edits) != len(tt.wantPaths) {
				t.Fatalf("edits = %v, want paths %v", edits, tt.wantPaths)
			}
			for i, e := range edits {
				if e.path != tt.wantPaths[i] || e.op != "replace" {
					t.Errorf("edit %d = %+v, want replace %s", i, e, tt.wantPaths[i])
				}
				if got := get(t, obj, e.path).(string); got != "nginx:2.0" && got != "registry.example.com/sidecar:2.0" && got != "busybox:2.0" {
					t.Errorf("%s = %q", e.path, got)
				}
			}
			if tt.predicate == "" && tt.kind != "Pod" && tt.kind != "CronJob" {
				if got := get(t, obj, "/spec/template/spec/initContainers/0/image"); got != "busybox:1.36" {
					t.Errorf("init container changed: %v", got)
				}
			}
		})
	}
}
