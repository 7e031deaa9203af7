package ociimage

import (
	"archive/tar"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// TestKarmadaAgentLinkStartsTheBinary runs the image's /bin/karmada-agent,
// extracted from the layout, and checks that it is the binary invoked by
// that name: a small static program that prints its base name stands in
// for tether-agent (which acts as karmada-agent by that name).
func TestKarmadaAgentLinkStartsTheBinary(t *testing.T) {
	if runtime.GOOS != "linux" || (runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64") {
		t.Skipf("runs the linux image's binary; this is %s/%s", runtime.GOOS, runtime.GOARCH)
	}
	src := t.TempDir()
	prog := "package main\n\nimport (\n\t\"fmt\"\n\t\"os\"\n\t\"path/filepath\"\n)\n\nfunc main() { fmt.Print(filepath.Base(os.Args[0])) }\n"
	if err := os.WriteFile(filepath.Join(src, "main.go"), []byte(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(src, "tether-agent")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "main.go")
	cmd.Dir, cmd.Env = src, append(os.Environ(), "CGO_ENABLED=0", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build the stand-in binary: %v\n%s", err, out)
	}
	c := testConfig(t)
	c.Platforms = []Platform{{Arch: runtime.GOARCH, Binary: bin}}
	_, idx := buildLayout(t, c)
	img, err := idx.Image(mustDigest(t, idx))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	for name, f := range files(t, img) {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		switch f.h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			err = os.WriteFile(p, f.body, os.FileMode(f.h.Mode))
		case tar.TypeSymlink:
			err = os.Symlink(f.h.Linkname, p)
		}
		if err != nil {
			t.Fatalf("extract %s: %v", name, err)
		}
	}
	for path, want := range map[string]string{KarmadaAgentPath: "karmada-agent", EntrypointPath: "tether-agent"} {
		out, err := exec.Command(filepath.Join(root, path)).Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("%s printed %q (%v), want %q: the image does not start the agent by that name", path, out, err, want)
		}
	}
}

func mustDigest(t *testing.T, idx v1.ImageIndex) v1.Hash {
	t.Helper()
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		t.Fatalf("index: %v, %d manifests", err, len(m.Manifests))
	}
	return m.Manifests[0].Digest
}
