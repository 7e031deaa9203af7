package ociimage

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The OCI annotation keys the image carries, on the index and on each
// platform's manifest.
const (
	AnnotationVersion  = "org.opencontainers.image.version"
	AnnotationRevision = "org.opencontainers.image.revision"
	AnnotationSource   = "org.opencontainers.image.source"
	AnnotationLicenses = "org.opencontainers.image.licenses"
	AnnotationCreated  = "org.opencontainers.image.created"
	AnnotationRefName  = "org.opencontainers.image.ref.name"
)

// Platform is one linux platform of the image and its agent binary.
type Platform struct {
	Arch   string // GOARCH: amd64, arm64
	Binary string // path of the static linux/<Arch> tether-agent binary
}

// Config says what to build.
type Config struct {
	Version  string
	Revision string
	Source   string // repository URL
	Licenses string // SPDX expression
	// Created is every timestamp of the image (the commit time, from
	// SOURCE_DATE_EPOCH), so the digest depends on the commit only.
	Created   time.Time
	Platforms []Platform
}

func (c Config) annotations() map[string]string {
	return map[string]string{
		AnnotationVersion: c.Version, AnnotationRevision: c.Revision, AnnotationSource: c.Source,
		AnnotationLicenses: c.Licenses, AnnotationCreated: c.Created.UTC().Format(time.RFC3339),
	}
}

func (c Config) validate() error {
	if c.Version == "" || c.Revision == "" || c.Source == "" || c.Licenses == "" {
		return fmt.Errorf("image config: version, revision, source and licenses are required (got %q, %q, %q, %q)",
			c.Version, c.Revision, c.Source, c.Licenses)
	}
	if c.Created.IsZero() {
		return fmt.Errorf("image config: the creation time is required (set SOURCE_DATE_EPOCH to the commit time)")
	}
	if len(c.Platforms) == 0 {
		return fmt.Errorf("image config: no platform to build")
	}
	return nil
}

// Build assembles the image index: one image per platform, in the order
// given, each annotated, and the index annotated the same way.
func Build(c Config) (v1.ImageIndex, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	base, err := layer(baseEntries(), c.Created)
	if err != nil {
		return nil, fmt.Errorf("base layer: %w", err)
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, p := range c.Platforms {
		img, err := platformImage(c, p, base)
		if err != nil {
			return nil, fmt.Errorf("linux/%s image: %w", p.Arch, err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: p.Arch}}})
	}
	return mutate.Annotations(idx, c.annotations()).(v1.ImageIndex), nil
}

func platformImage(c Config, p Platform, base v1.Layer) (v1.Image, error) {
	bin, err := os.ReadFile(p.Binary)
	if err != nil {
		return nil, fmt.Errorf("agent binary: %w (build it with 'make image', which cross-compiles it)", err)
	}
	agent, err := layer(agentEntries(bin), c.Created)
	if err != nil {
		return nil, fmt.Errorf("agent layer: %w", err)
	}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	created := v1.Time{Time: c.Created.UTC()}
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, History: v1.History{Created: created, CreatedBy: "tether: passwd, group, /tmp, /home/nonroot"}},
		mutate.Addendum{Layer: agent, History: v1.History{Created: created, CreatedBy: "tether: " + EntrypointPath + ", " + KarmadaAgentPath}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", p.Arch, created
	user := strconv.Itoa(UID) + ":" + strconv.Itoa(GID)
	cf.Config = v1.Config{User: user, Entrypoint: []string{EntrypointPath}, WorkingDir: "/",
		Env: []string{"PATH=/bin", "HOME=/home/nonroot"}, Labels: c.annotations()}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return nil, err
	}
	return mutate.Annotations(img, c.annotations()).(v1.Image), nil
}

// layer is a gzip-compressed OCI layer of entries.
func layer(entries []entry, mtime time.Time) (v1.Layer, error) {
	raw, err := tarStream(entries, mtime)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(raw)), nil },
		tarball.WithMediaType(types.OCILayer))
}
