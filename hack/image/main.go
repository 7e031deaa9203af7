// Command image builds Tether's agent image as an OCI image layout and
// pushes it, with no Docker daemon (see package ociimage). It is a build
// tool, run by 'make image' and 'make image-push'; it is not part of the
// tether-agent binary.
//
//	go run ./hack/image build --layout bin/image --version v0.3.0 --revision <sha> \
//	    --platform amd64=bin/linux_amd64/tether-agent --platform arm64=bin/linux_arm64/tether-agent
//	go run ./hack/image push --layout bin/image --ref ghcr.io/tether-io/tether-agent:v0.3.0
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tether-io/tether/hack/image/ociimage"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: image build|push [flags]")
	}
	switch args[0] {
	case "build":
		return build(args[1:])
	case "push":
		return push(args[1:])
	}
	return fmt.Errorf("unknown command %q: want build or push", args[0])
}

// platforms collects repeated --platform arch=binary flags.
type platforms []ociimage.Platform

func (p *platforms) String() string { return fmt.Sprint(*p) }

func (p *platforms) Set(v string) error {
	arch, bin, ok := strings.Cut(v, "=")
	if !ok || arch == "" || bin == "" {
		return fmt.Errorf("--platform %q: want <arch>=<path of the linux/<arch> binary>", v)
	}
	*p = append(*p, ociimage.Platform{Arch: arch, Binary: bin})
	return nil
}

func build(args []string) error {
	fs := flag.NewFlagSet("build", flag.ContinueOnError)
	var c ociimage.Config
	dir := fs.String("layout", "bin/image", "Directory of the OCI image layout to write (replaced).")
	epoch := fs.String("source-date-epoch", os.Getenv("SOURCE_DATE_EPOCH"), "Commit time in seconds since the epoch; every timestamp of the image (default $SOURCE_DATE_EPOCH).")
	fs.StringVar(&c.Version, "version", "", "Image version (org.opencontainers.image.version).")
	fs.StringVar(&c.Revision, "revision", "", "Commit the image is built from (org.opencontainers.image.revision).")
	fs.StringVar(&c.Source, "source", "https://github.com/tether-io/tether", "Repository URL (org.opencontainers.image.source).")
	fs.StringVar(&c.Licenses, "licenses", "Apache-2.0", "SPDX licence expression (org.opencontainers.image.licenses).")
	fs.Var((*platforms)(&c.Platforms), "platform", "<arch>=<path of the static linux binary>; repeat per platform.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	secs, err := strconv.ParseInt(*epoch, 10, 64)
	if err != nil {
		return fmt.Errorf("--source-date-epoch %q: want seconds since the epoch (git log -1 --format=%%ct)", *epoch)
	}
	c.Created = time.Unix(secs, 0).UTC()
	idx, err := ociimage.Build(c)
	if err != nil {
		return err
	}
	if err := ociimage.WriteLayout(*dir, idx, c.Version); err != nil {
		return err
	}
	d, err := idx.Digest()
	if err != nil {
		return err
	}
	fmt.Printf("%s: tether-agent %s, index %s\n", *dir, c.Version, d)
	return nil
}

func push(args []string) error {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	dir := fs.String("layout", "bin/image", "Directory of the OCI image layout 'make image' wrote.")
	ref := fs.String("ref", "", "Where to push: registry/path:tag.")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ref == "" {
		return errors.New("--ref is required: registry/path:tag (make image-push REGISTRY=ghcr.io/<org>)")
	}
	d, err := ociimage.Push(*dir, *ref)
	if err != nil {
		return err
	}
	fmt.Printf("pushed %s@%s\n", *ref, d)
	return nil
}
