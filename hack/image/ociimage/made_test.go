package ociimage

import (
	"archive/tar"
	"os"
	"strings"
	"testing"
)

// TestMadeImage checks the layout 'make image' wrote, named by
// $TETHER_IMAGE_LAYOUT ('make image' runs it; skipped without): both
// platforms, the user, the entrypoint, /bin/karmada-agent, a real agent
// binary, and the annotations on the index and each manifest.
func TestMadeImage(t *testing.T) {
	dir := os.Getenv("TETHER_IMAGE_LAYOUT")
	if dir == "" {
		t.Skip("TETHER_IMAGE_LAYOUT names no layout ('make image' sets it)")
	}
	idx, err := ReadLayout(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	keys := []string{AnnotationVersion, AnnotationRevision, AnnotationSource, AnnotationLicenses, AnnotationCreated}
	for _, k := range keys {
		if m.Annotations[k] == "" {
			t.Errorf("index: no annotation %s", k)
		}
	}
	var platforms []string
	for _, d := range m.Manifests {
		arch := d.Platform.Architecture
		platforms = append(platforms, d.Platform.OS+"/"+arch)
		img, err := idx.Image(d.Digest)
		if err != nil {
			t.Fatal(err)
		}
		im, _ := img.Manifest()
		for _, k := range keys {
			if im.Annotations[k] != m.Annotations[k] {
				t.Errorf("%s manifest: annotation %s = %q, the index says %q", arch, k, im.Annotations[k], m.Annotations[k])
			}
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		if cf.Config.User != "65532:65532" || strings.Join(cf.Config.Entrypoint, " ") != EntrypointPath || cf.Architecture != arch {
			t.Errorf("%s: user %q, entrypoint %q, architecture %s", arch, cf.Config.User, cf.Config.Entrypoint, cf.Architecture)
		}
		fs := files(t, img)
		if l := fs[KarmadaAgentPath]; l.h == nil || l.h.Typeflag != tar.TypeSymlink || l.h.Linkname != "tether-agent" {
			t.Errorf("%s: %s is not a link to tether-agent", arch, KarmadaAgentPath)
		}
		if b := fs[EntrypointPath].body; len(b) < 1<<20 || string(b[1:4]) != "ELF" {
			t.Errorf("%s: %s is not an agent binary (%d bytes)", arch, EntrypointPath, len(b))
		}
	}
	if strings.Join(platforms, ",") != "linux/amd64,linux/arm64" {
		t.Errorf("platforms %v, want linux/amd64 and linux/arm64", platforms)
	}
}
