package ociimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var commitTime = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// testConfig is a two-platform config with small stand-in binaries.
func testConfig(t *testing.T) Config {
	t.Helper()
	dir := t.TempDir()
	c := Config{Version: "v1.2.3", Revision: "0123456789abcdef", Source: "https://github.com/tether-io/tether",
		Licenses: "Apache-2.0", Created: commitTime}
	for _, arch := range []string{"amd64", "arm64"} {
		p := filepath.Join(dir, arch)
		if err := os.WriteFile(p, []byte("binary for "+arch), 0o755); err != nil {
			t.Fatal(err)
		}
		c.Platforms = append(c.Platforms, Platform{Arch: arch, Binary: p})
	}
	return c
}

// buildLayout builds c into a fresh layout and reads it back, as the tests
// of what 'make image' wrote should.
func buildLayout(t *testing.T, c Config) (string, v1.ImageIndex) {
	t.Helper()
	idx, err := Build(c)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "image")
	if err := WriteLayout(dir, idx, c.Version); err != nil {
		t.Fatal(err)
	}
	read, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	return dir, read
}

func TestLayoutPlatformsAndAnnotations(t *testing.T) {
	c := testConfig(t)
	_, idx := buildLayout(t, c)
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if m.MediaType != types.OCIImageIndex {
		t.Errorf("index media type %s, want %s", m.MediaType, types.OCIImageIndex)
	}
	wantAnnotations(t, "index", m.Annotations)
	var got []string
	for _, d := range m.Manifests {
		if d.Platform == nil {
			t.Fatalf("manifest %s has no platform", d.Digest)
		}
		got = append(got, d.Platform.OS+"/"+d.Platform.Architecture)
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		im, err := img.Manifest()
		if err != nil {
			t.Fatal(err)
		}
		if im.MediaType != types.OCIManifestSchema1 || im.Config.MediaType != types.OCIConfigJSON {
			t.Errorf("%s: media types %s / %s, want OCI", d.Platform.Architecture, im.MediaType, im.Config.MediaType)
		}
		wantAnnotations(t, d.Platform.Architecture+" manifest", im.Annotations)
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.OS != "linux" || cf.Architecture != d.Platform.Architecture {
			t.Errorf("config platform %s/%s, descriptor says linux/%s", cf.OS, cf.Architecture, d.Platform.Architecture)
		}
		if cf.Config.User != "65532:65532" {
			t.Errorf("%s: user %q, want 65532:65532", d.Platform.Architecture, cf.Config.User)
		}
		if len(cf.Config.Entrypoint) != 1 || cf.Config.Entrypoint[0] != "/bin/tether-agent" {
			t.Errorf("%s: entrypoint %q, want [/bin/tether-agent]", d.Platform.Architecture, cf.Config.Entrypoint)
		}
		if !cf.Created.Time.Equal(commitTime) {
			t.Errorf("%s: created %s, want the commit time %s", d.Platform.Architecture, cf.Created.Time, commitTime)
		}
	}
	if strings.Join(got, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("platforms %v, want linux/amd64 and linux/arm64", got)
	}
}

func wantAnnotations(t *testing.T, what string, got map[string]string) {
	t.Helper()
	want := map[string]string{AnnotationVersion: "v1.2.3", AnnotationRevision: "0123456789abcdef",
		AnnotationSource: "https://github.com/tether-io/tether", AnnotationLicenses: "Apache-2.0",
		AnnotationCreated: "2026-11-30T12:00:00Z"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s annotation %s = %q, want %q", what, k, got[k], v)
		}
	}
}

// files is an image's flattened file system: name -> header and content.
func files(t *testing.T, img v1.Image) map[string]fileEntry {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	out := map[string]fileEntry{}
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out["/"+strings.TrimSuffix(h.Name, "/")] = fileEntry{h, body}
	}
}

type fileEntry struct {
	h    *tar.Header
	body []byte
}

func TestImageFiles(t *testing.T) {
	c := testConfig(t)
	_, idx := buildLayout(t, c)
	m, _ := idx.IndexManifest()
	for i, d := range m.Manifests {
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		fs := files(t, img)
		agent, ok := fs["/bin/tether-agent"]
		if !ok || agent.h.Typeflag != tar.TypeReg || agent.h.Mode != 0o755 {
			t.Fatalf("%s: /bin/tether-agent missing or not an executable file: %+v", d.Platform.Architecture, agent.h)
		}
		want, _ := os.ReadFile(c.Platforms[i].Binary)
		if !bytes.Equal(agent.body, want) {
			t.Errorf("%s: /bin/tether-agent is not the %s binary", d.Platform.Architecture, c.Platforms[i].Arch)
		}
		link, ok := fs["/bin/karmada-agent"]
		if !ok || link.h.Typeflag != tar.TypeSymlink || link.h.Linkname != "tether-agent" {
			t.Errorf("%s: /bin/karmada-agent is not a link to tether-agent: %+v", d.Platform.Architecture, link.h)
		}
		if p := string(fs["/etc/passwd"].body); !strings.Contains(p, "nonroot:x:65532:65532:") {
			t.Errorf("%s: /etc/passwd has no nonroot 65532: %q", d.Platform.Architecture, p)
		}
		if g := string(fs["/etc/group"].body); !strings.Contains(g, "nonroot:x:65532:") {
			t.Errorf("%s: /etc/group has no nonroot 65532: %q", d.Platform.Architecture, g)
		}
		if h := fs["/home/nonroot"].h; h == nil || h.Uid != UID {
			t.Errorf("%s: /home/nonroot is not nonroot's: %+v", d.Platform.Architecture, h)
		}
		for name, f := range fs {
			if !f.h.ModTime.Equal(commitTime) {
				t.Errorf("%s: %s has time %s, want the commit time", d.Platform.Architecture, name, f.h.ModTime)
			}
		}
		if _, ok := fs["/etc/ssl/certs/ca-certificates.crt"]; ok {
			t.Errorf("%s: the image carries a CA bundle the agent does not use", d.Platform.Architecture)
		}
	}
}

func TestSameInputSameDigest(t *testing.T) {
	c := testConfig(t)
	_, a := buildLayout(t, c)
	_, b := buildLayout(t, c)
	da, _ := a.Digest()
	db, _ := b.Digest()
	if da != db {
		t.Fatalf("two builds of the same input: digests %s and %s", da, db)
	}
	c.Created = commitTime.Add(time.Second)
	_, later := buildLayout(t, c)
	if dl, _ := later.Digest(); dl == da {
		t.Errorf("another commit time gave the same digest %s: the time is not in the image", dl)
	}
}

func TestBuildRefusesIncompleteConfig(t *testing.T) {
	c := testConfig(t)
	c.Created = time.Time{}
	if _, err := Build(c); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("no creation time: error %v, want one naming SOURCE_DATE_EPOCH", err)
	}
	c = testConfig(t)
	c.Platforms[1].Binary = filepath.Join(t.TempDir(), "missing")
	if _, err := Build(c); err == nil || !strings.Contains(err.Error(), "linux/arm64") {
		t.Errorf("missing binary: error %v, want one naming the platform", err)
	}
}
