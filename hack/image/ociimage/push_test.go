package ociimage

import (
	"io"
	"log"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// TestPush pushes a built layout to an in-process registry and reads the
// image back from it by tag and by platform.
func TestPush(t *testing.T) {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	c := testConfig(t)
	dir, idx := buildLayout(t, c)
	ref := strings.TrimPrefix(srv.URL, "http://") + "/tether-io/tether-agent:" + c.Version
	pushed, err := Push(dir, ref)
	if err != nil {
		t.Fatal(err)
	}
	built, _ := idx.Digest()
	if pushed != built {
		t.Errorf("Push reported %s, the layout holds %s", pushed, built)
	}
	tag, err := name.NewTag(ref)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := remote.Get(tag)
	if err != nil {
		t.Fatalf("the registry does not serve %s: %v", ref, err)
	}
	if desc.Digest != built {
		t.Errorf("registry serves %s as %s, want %s", ref, desc.Digest, built)
	}
	for _, p := range c.Platforms {
		img, err := remote.Image(tag, remote.WithPlatform(v1.Platform{OS: "linux", Architecture: p.Arch}))
		if err != nil {
			t.Fatalf("linux/%s from the registry: %v", p.Arch, err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Architecture != p.Arch || cf.Config.User != "65532:65532" {
			t.Errorf("linux/%s from the registry: architecture %s, user %s", p.Arch, cf.Architecture, cf.Config.User)
		}
	}
	if _, err := Push(dir, "not a reference"); err == nil || !strings.Contains(err.Error(), "registry/path:tag") {
		t.Errorf("bad reference: error %v, want one saying what to write", err)
	}
}
