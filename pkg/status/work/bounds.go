package work

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/tether-io/tether/pkg/drift"
)

// Bounds of what one Work status carries. A Work status lives in one etcd
// value with the Work's spec (1.5 MiB by default), so every entry that grows
// with the member (a reflected status, an error, a condition message) is
// capped, and the caps are chosen so that the common Work (a handful of
// manifests) never comes near the store's limit.
const (
	// StatusLimit caps one manifest's reflected status (the JSON in
	// manifestStatuses[].status). OCM caps its feedback at about 1 KiB; the
	// shapes Tether reflects for workloads are 100-300 bytes and a Job's or
	// a LoadBalancer Service's stay under 1 KiB, so 2 KiB leaves room for a
	// custom resource's whole status (which is reflected as is) without
	// letting one object take a noticeable share of the etcd value: a Work
	// of 100 manifests stays under 200 KiB of status. See boundStatus for
	// what is kept when a status is larger.
	StatusLimit = 2048
	// TextLimit caps one applyError, reflectError or observed string: an
	// apiserver error naming an object and a field is 100-300 bytes; 1 KiB
	// keeps a long admission-webhook message readable.
	TextLimit = 1024
	// MessageLimit caps a condition message, and so the Event that repeats
	// it. The Applied message aggregates every failing manifest's error; its
	// "(N/M)" counts come first and are always kept, each manifest's whole
	// error stays in its manifestStatuses entry, so 4 KiB (a few errors)
	// serves a reader without letting a Work of many failing manifests
	// write tens of KiB per condition.
	MessageLimit = 4096
	// DriftLimit caps one manifest's drift record (manifestStatuses[].status.drift):
	// a few fields with short values fit; past it fields are dropped from
	// the end and counted in omittedFields (boundRecord).
	DriftLimit = 2048
	// stringLimit is how long a string inside a reflected status may stay
	// when that status is over StatusLimit (condition messages, mostly).
	stringLimit = 200
)

// truncatedMark ends every string that was cut.
const truncatedMark = "… (truncated)"

// withheldMark replaces text that looked like manifest content.
const withheldMark = "[text withheld: it quoted object content]"

// contentPattern finds what looks like an object's content inside an error:
// a JSON object, a Go-printed map, or a Secret's or ConfigMap's data key.
// Errors are meant to name objects and fields, never to quote them; a
// decoder that quotes its input (unstructured's "Object 'Kind' is missing
// in '{...}'") would otherwise publish a Secret's data in Work status, the
// Applied condition and an Event.
var contentPattern = regexp.MustCompile(`\{\s*"|map\[|"(data|stringData|binaryData)"\s*:`)

// safeText makes an error or message fit for the hub: everything from the
// first sign of object content on is withheld, and the rest is cut to limit
// bytes on a rune boundary.
func safeText(s string, limit int) string {
	if loc := contentPattern.FindStringIndex(s); loc != nil {
		s = strings.TrimRight(s[:loc[0]], " '\"`:(") + " " + withheldMark
		s = strings.TrimLeft(s, " ")
	}
	return cut(s, limit)
}

// cut shortens s to at most limit bytes, ending on a rune boundary with
// truncatedMark, and tells how long it was.
func cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	mark := fmt.Sprintf("%s, %d bytes", truncatedMark, len(s))
	n := max(limit-len(mark), 0)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + mark
}

// TruncateMessage keeps a condition message within MessageLimit and free of
// object content. A cut prefers a boundary between two aggregated errors, so
// the message's leading "(N/M)" counts and whole errors survive.
func TruncateMessage(s string) string {
	s = safeText(s, len(s))
	if len(s) <= MessageLimit {
		return s
	}
	const tail = ", … (truncated; every manifest's error is in manifestStatuses)"
	head := s[:MessageLimit-len(tail)]
	for len(head) > 0 && !utf8.ValidString(head) {
		head = head[:len(head)-1]
	}
	if i := strings.LastIndex(head, ", "); i > len(head)/2 {
		head = head[:i]
	}
	return head + tail
}

// boundStatus keeps a reflected status within limit bytes and valid JSON,
// losing as little of what the control plane aggregates as it can. In order:
//  1. strings (condition messages, mostly) are cut to stringLimit bytes;
//  2. only the top-level scalars are kept (every counter and generation of
//     the workload shapes), with "truncated": true and the original size;
//  3. a marker {"truncated": true, "bytes": N} replaces the status.
func boundStatus(raw *runtime.RawExtension, limit int) *runtime.RawExtension {
	if raw == nil || len(raw.Raw) <= limit {
		return raw
	}
	size := len(raw.Raw)
	var v any
	if json.Unmarshal(raw.Raw, &v) == nil {
		if out, err := json.Marshal(shortenStrings(v)); err == nil && len(out) <= limit {
			return &runtime.RawExtension{Raw: out}
		}
		if m, ok := v.(map[string]any); ok {
			scalars := map[string]any{}
			for k, x := range m {
				switch x := x.(type) {
				case bool, float64:
					scalars[k] = x
				case string:
					scalars[k] = cut(x, stringLimit)
				}
			}
			scalars["truncated"], scalars["bytes"] = true, size
			if out, err := json.Marshal(scalars); err == nil && len(out) <= limit {
				return &runtime.RawExtension{Raw: out}
			}
		}
	}
	return rawStatus(map[string]any{"truncated": true, "bytes": size})
}

// shortenStrings cuts every string in a decoded JSON value to stringLimit.
func shortenStrings(v any) any {
	switch x := v.(type) {
	case string:
		return cut(x, stringLimit)
	case map[string]any:
		for k, e := range x {
			x[k] = shortenStrings(e)
		}
	case []any:
		for i, e := range x {
			x[i] = shortenStrings(e)
		}
	}
	return v
}

// boundRecord returns a copy of rec whose JSON fits in limit bytes: fields
// are dropped from the end, and counted in OmittedFields, until it does.
func boundRecord(rec *drift.Record, limit int) *drift.Record {
	out := *rec
	out.Fields = append([]drift.Field(nil), rec.Fields...)
	for len(out.Fields) > 0 {
		raw, err := json.Marshal(&out)
		if err == nil && len(raw) <= limit {
			break
		}
		out.Fields = out.Fields[:len(out.Fields)-1]
		out.OmittedFields++
	}
	return &out
}
