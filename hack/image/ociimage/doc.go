// Package ociimage assembles Tether's agent image: a multi-platform OCI
// image index of scratch-based images, built from static tether-agent
// binaries with no Docker daemon, written as an OCI image layout and pushed
// with go-containerregistry.
//
// The build is reproducible: every timestamp is the commit time, tar entries
// are sorted and owned by root (files the agent runs as are read-only), and
// nothing of the build machine enters the image, so one commit gives one
// digest.
package ociimage
