package main

import (
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/tether-io/tether/hack/image/ociimage"
)

// TestBuildAndPushCommands runs the commands 'make image' and 'make
// image-push' run, with stand-in binaries and an in-process registry.
func TestBuildAndPushCommands(t *testing.T) {
	dir := t.TempDir()
	var platforms []string
	for _, arch := range []string{"amd64", "arm64"} {
		p := filepath.Join(dir, arch)
		if err := os.WriteFile(p, []byte(arch), 0o755); err != nil {
			t.Fatal(err)
		}
		platforms = append(platforms, "--platform", arch+"="+p)
	}
	layout := filepath.Join(dir, "image")
	build := append([]string{"build", "--layout", layout, "--version", "v9.9.9", "--revision", "abc", "--source-date-epoch", "1700000000"}, platforms...)
	if err := run(build); err != nil {
		t.Fatal(err)
	}
	idx, err := ociimage.ReadLayout(layout)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.Annotations[ociimage.AnnotationCreated] != "2023-11-14T22:13:20Z" || m.Annotations[ociimage.AnnotationLicenses] != "Apache-2.0" ||
		m.Annotations[ociimage.AnnotationSource] != "https://github.com/tether-io/tether" {
		t.Errorf("index annotations %v: want the epoch's time and the default licence and source", m.Annotations)
	}

	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	ref := strings.TrimPrefix(srv.URL, "http://") + "/tether-io/tether-agent:v9.9.9"
	if err := run([]string{"push", "--layout", layout, "--ref", ref}); err != nil {
		t.Fatal(err)
	}
	tag, _ := name.NewTag(ref)
	desc, err := remote.Get(tag)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := idx.Digest(); desc.Digest != want {
		t.Errorf("the registry serves %s, the layout holds %s", desc.Digest, want)
	}

	for args, want := range map[string]string{
		"build --version v1 --revision r --source-date-epoch x": "--source-date-epoch",
		"build --version v1 --revision r --source-date-epoch 1": "no platform",
		"push --layout " + layout:                               "--ref is required",
		"push --layout " + dir + " --ref " + ref:                "run 'make image' first",
		"tag":                                                   "unknown command",
	} {
		if err := run(strings.Fields(args)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("image %s: error %v, want one with %q", args, err, want)
		}
	}
}
