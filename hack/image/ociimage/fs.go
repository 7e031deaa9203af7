package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"sort"
	"time"
)

// The user the agent runs as: distroless's "nonroot".
const (
	UID = 65532
	GID = 65532
)

// EntrypointPath is where the agent binary lives; KarmadaAgentPath is a
// symbolic link to it, so a Deployment written by karmadactl register
// (command /bin/karmada-agent) starts the agent (the binary acts as
// karmada-agent when invoked by that name).
const (
	EntrypointPath   = "/bin/tether-agent"
	KarmadaAgentPath = "/bin/karmada-agent"
)

// entry is one file, directory or symbolic link of a layer.
type entry struct {
	name     string // without a leading slash
	typ      byte
	mode     int64
	uid, gid int
	body     []byte
	link     string
}

// baseEntries is the project's scratch-like base: the directories a
// program expects, and passwd/group naming root and nonroot. No CA
// certificates: the agent only talks TLS to API servers whose CA it pins
// from kubeconfigs and service-account tokens.
func baseEntries() []entry {
	return []entry{
		{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/", typ: tar.TypeDir, mode: 0o755},
		{name: "etc/group", typ: tar.TypeReg, mode: 0o644, body: []byte(fmt.Sprintf("root:x:0:\nnonroot:x:%d:\n", GID))},
		{name: "etc/passwd", typ: tar.TypeReg, mode: 0o644, body: []byte(fmt.Sprintf(
			"root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:/home/nonroot:/sbin/nologin\n", UID, GID))},
		{name: "home/", typ: tar.TypeDir, mode: 0o755},
		{name: "home/nonroot/", typ: tar.TypeDir, mode: 0o700, uid: UID, gid: GID},
		{name: "tmp/", typ: tar.TypeDir, mode: 0o1777},
	}
}

// agentEntries is the agent's layer: the binary and the karmada-agent link.
func agentEntries(binary []byte) []entry {
	return []entry{
		{name: "bin/", typ: tar.TypeDir, mode: 0o755},
		{name: EntrypointPath[1:], typ: tar.TypeReg, mode: 0o755, body: binary},
		{name: KarmadaAgentPath[1:], typ: tar.TypeSymlink, mode: 0o777, link: "tether-agent"},
	}
}

// tarStream writes entries as a tar stream, sorted by name, each with the
// time mtime and no user or group names, so equal input gives equal bytes.
func tarStream(entries []entry, mtime time.Time) ([]byte, error) {
	sorted := append([]entry(nil), entries...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range sorted {
		h := &tar.Header{Name: e.name, Typeflag: e.typ, Mode: e.mode, Uid: e.uid, Gid: e.gid,
			Linkname: e.link, Size: int64(len(e.body)), ModTime: mtime, Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.name, err)
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, fmt.Errorf("layer entry %s: %w", e.name, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
