package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// auditPolicy records every request at level Metadata (who, what, which
// object, the response code; no bodies). RequestReceived is omitted, so a
// short request writes one event (ResponseComplete) and a watch two
// (ResponseStarted, ResponseComplete).
const auditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
- level: Metadata
`

// auditFlags are the kube-apiserver flags of c's audit log. The log backend
// runs in blocking mode: each event is written to the file by the request
// that caused it, before that request's handler returns, so it is on disk
// within milliseconds of the response (batch mode buffers for up to its
// --audit-log-batch-max-wait). A reader still polls (Eventually): the
// response can reach the client just before its event is written. The file
// is never rotated, and a restarted apiserver appends to it.
func (e *Env) auditFlags(c *Cluster) ([]string, error) {
	policy := filepath.Join(e.Dir, "audit-policy.yaml")
	if err := os.WriteFile(policy, []byte(auditPolicy), 0o600); err != nil {
		return nil, err
	}
	dir := filepath.Join(e.Dir, "audit")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	c.AuditLog = filepath.Join(dir, c.Name+".log")
	return []string{
		"--audit-policy-file=" + policy, "--audit-log-path=" + c.AuditLog,
		"--audit-log-format=json", "--audit-log-mode=blocking",
		// 0 would mean lumberjack's default of 100 MB, then a rotation that
		// would move events from under an AuditMark.
		"--audit-log-maxsize=1000000", "--audit-log-maxbackup=0", "--audit-log-maxage=0",
	}, nil
}

// AuditEvent is one audit.k8s.io/v1 Event, flattened.
type AuditEvent struct {
	AuditID     string
	Stage       string // ResponseStarted, ResponseComplete or Panic
	RequestURI  string
	Verb        string // get, list, watch, create, update, patch, delete, deletecollection
	User        string // the authenticated user name
	Groups      []string
	UserAgent   string
	APIGroup    string
	APIVersion  string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
	Code        int // response status code; 0 when there is none
	// Received is when the apiserver received the request; Time is when
	// this stage was reached.
	Received, Time time.Time
}

// IsWrite reports whether the event is a write (see IsWrite).
func (a AuditEvent) IsWrite() bool { return IsWrite(a.Verb) }

// IsWrite reports whether an audit verb changes state: create, update,
// patch, delete or deletecollection.
func IsWrite(verb string) bool {
	switch verb {
	case "create", "update", "patch", "delete", "deletecollection":
		return true
	}
	return false
}

// auditWire is the part of an audit.k8s.io/v1 Event that AuditEvent keeps.
type auditWire struct {
	AuditID    string `json:"auditID"`
	Stage      string `json:"stage"`
	RequestURI string `json:"requestURI"`
	Verb       string `json:"verb"`
	User       struct {
		Username string   `json:"username"`
		Groups   []string `json:"groups"`
	} `json:"user"`
	UserAgent string `json:"userAgent"`
	ObjectRef *struct {
		Resource    string `json:"resource"`
		Namespace   string `json:"namespace"`
		Name        string `json:"name"`
		APIGroup    string `json:"apiGroup"`
		APIVersion  string `json:"apiVersion"`
		Subresource string `json:"subresource"`
	} `json:"objectRef"`
	ResponseStatus *struct {
		Code int `json:"code"`
	} `json:"responseStatus"`
	RequestReceivedTimestamp time.Time `json:"requestReceivedTimestamp"`
	StageTimestamp           time.Time `json:"stageTimestamp"`
}

func (w auditWire) event() AuditEvent {
	ev := AuditEvent{AuditID: w.AuditID, Stage: w.Stage, RequestURI: w.RequestURI, Verb: w.Verb,
		User: w.User.Username, Groups: w.User.Groups, UserAgent: w.UserAgent,
		Received: w.RequestReceivedTimestamp, Time: w.StageTimestamp}
	if r := w.ObjectRef; r != nil {
		ev.APIGroup, ev.APIVersion, ev.Resource, ev.Subresource = r.APIGroup, r.APIVersion, r.Resource, r.Subresource
		ev.Namespace, ev.Name = r.Namespace, r.Name
	}
	if w.ResponseStatus != nil {
		ev.Code = w.ResponseStatus.Code
	}
	return ev
}

// AuditMark is a position in a cluster's audit log: AuditEvents returns
// what was written after it.
type AuditMark struct{ offset int64 }

func (c *Cluster) auditLog() (string, error) {
	if c.AuditLog == "" {
		return "", fmt.Errorf("cluster %s has no audit log: start the environment with testenv.Options{Audit: true}", c.Name)
	}
	return c.AuditLog, nil
}

// AuditMark returns the current end of the cluster's audit log (after its
// last complete event).
func (c *Cluster) AuditMark() (AuditMark, error) {
	path, err := c.auditLog()
	if err != nil {
		return AuditMark{}, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return AuditMark{}, nil
	}
	if err != nil {
		return AuditMark{}, fmt.Errorf("audit log of %s: %w", c.Name, err)
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return AuditMark{}, fmt.Errorf("audit log of %s: %w", c.Name, err)
	}
	// Step back over an event being written, to the last newline.
	start := max(size-1<<16, 0)
	buf := make([]byte, size-start)
	if _, err := f.ReadAt(buf, start); err != nil && !errors.Is(err, io.EOF) {
		return AuditMark{}, fmt.Errorf("audit log of %s: %w", c.Name, err)
	}
	return AuditMark{offset: start + int64(bytes.LastIndexByte(buf, '\n')+1)}, nil
}

// AuditEvents returns the events written to the cluster's audit log after
// since for which match returns true (all of them when match is nil), in
// the order the apiserver wrote them. An event still being written is left
// for the next call.
func (c *Cluster) AuditEvents(since AuditMark, match func(AuditEvent) bool) ([]AuditEvent, error) {
	path, err := c.auditLog()
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("audit log of %s: %w", c.Name, err)
	}
	defer f.Close()
	if _, err := f.Seek(since.offset, io.SeekStart); err != nil {
		return nil, fmt.Errorf("audit log of %s: %w", c.Name, err)
	}
	var out []AuditEvent
	r := bufio.NewReaderSize(f, 1<<20)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil { // io.EOF: a partial line or none
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, fmt.Errorf("audit log of %s: %w", c.Name, err)
		}
		var w auditWire
		if err := json.Unmarshal(line, &w); err != nil {
			return nil, fmt.Errorf("audit log of %s: an event that is not JSON: %w", c.Name, err)
		}
		if ev := w.event(); match == nil || match(ev) {
			out = append(out, ev)
		}
	}
}

// ByUser matches the events of one user.
func ByUser(user string) func(AuditEvent) bool {
	return func(ev AuditEvent) bool { return ev.User == user }
}

// WritesBy matches the writes (IsWrite) of one user.
func WritesBy(user string) func(AuditEvent) bool {
	return func(ev AuditEvent) bool { return ev.User == user && ev.IsWrite() }
}
