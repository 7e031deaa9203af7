package drift

import (
	"encoding/json"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// Bounds of a Finding, so that a record stays small next to the reflected
// status in the Work's status entry.
const (
	// FieldLimit caps the fields a Finding lists; the rest are counted.
	FieldLimit = 16
	// ValueLimit caps each value's JSON text.
	ValueLimit = 64
	// PathLimit caps a path: a longer one (a very long label key) is cut.
	PathLimit = 256
)

// cutMark ends a value or path that was cut.
const cutMark = "…"

// Describe turns the paths where live differs from desired into Fields:
// modified are fields both set to different values, missing are fields
// the manifest sets that the member object lacks. Paths become JSON
// pointers into desired; values are short JSON text, left out entirely
// when secret (a Secret: its data never leaves the member). A path under
// a listed list item is left out (the item says it all), and so is a map
// with listed fields under it (they say it more precisely). The fields are
// sorted by path and capped at FieldLimit; omitted counts the rest.
// manager, if not nil, names the manager holding a modified field.
func Describe(desired, live map[string]any, modified, missing []fieldpath.Path, secret bool, manager func(fieldpath.Path) string) (fields []Field, omitted int) {
	type found struct {
		path    fieldpath.Path
		missing bool
	}
	var all []found
	for _, p := range modified {
		all = append(all, found{p, false})
	}
	for _, p := range missing {
		all = append(all, found{p, true})
	}
	for _, f := range all {
		if redundant(f.path, modified, missing) {
			continue
		}
		ptr, hub, ok := pointerAt(desired, f.path)
		if !ok {
			continue // not in the manifest after all: nothing to report
		}
		field := Field{Path: cutText(ptr, PathLimit)}
		if !secret {
			field.ValueInHub = jsonText(hub)
			if !f.missing {
				if v, ok := valueAt(live, f.path); ok {
					field.ValueInMember = jsonText(v)
				}
			}
		}
		if !f.missing && manager != nil {
			field.Manager = cutText(manager(f.path), PathLimit)
		}
		fields = append(fields, field)
	}
	sort.Slice(fields, func(i, j int) bool { return fields[i].Path < fields[j].Path })
	if len(fields) > FieldLimit {
		omitted = len(fields) - FieldLimit
		fields = fields[:FieldLimit]
	}
	return fields, omitted
}

// redundant reports whether p says less than another listed path: p is
// under a listed list item, or p is a field with listed paths under it.
func redundant(p fieldpath.Path, lists ...[]fieldpath.Path) bool {
	for _, l := range lists {
		for _, q := range l {
			switch {
			case len(q) == 0 || len(p) == 0:
			case len(q) < len(p) && q.Equals(p[:len(q)]) && q[len(q)-1].FieldName == nil:
				return true
			case len(p) < len(q) && p.Equals(q[:len(p)]) && p[len(p)-1].FieldName != nil:
				return true
			}
		}
	}
	return false
}

// pointerAt walks obj along p and returns the JSON pointer of the place p
// names (list items by their index in obj) and the value there.
func pointerAt(obj any, p fieldpath.Path) (string, any, bool) {
	var b strings.Builder
	cur := obj
	for _, pe := range p {
		var tok string
		var ok bool
		cur, tok, ok = step(cur, pe)
		if !ok {
			return "", nil, false
		}
		b.WriteByte('/')
		b.WriteString(escape(tok))
	}
	return b.String(), cur, true
}

// valueAt returns the value at p in obj.
func valueAt(obj any, p fieldpath.Path) (any, bool) {
	_, v, ok := pointerAt(obj, p)
	return v, ok
}

// step follows one path element from cur, returning the child and its
// reference token.
func step(cur any, pe fieldpath.PathElement) (any, string, bool) {
	switch {
	case pe.FieldName != nil:
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, "", false
		}
		v, ok := m[*pe.FieldName]
		return v, *pe.FieldName, ok
	case pe.Key != nil:
		return item(cur, func(x any) bool {
			m, ok := x.(map[string]any)
			for _, f := range *pe.Key {
				if !ok || m[f.Name] == nil || !value.Equals(value.NewValueInterface(m[f.Name]), f.Value) {
					return false
				}
			}
			return ok
		})
	case pe.Value != nil:
		return item(cur, func(x any) bool { return value.Equals(value.NewValueInterface(x), *pe.Value) })
	case pe.Index != nil:
		l, ok := cur.([]any)
		if !ok || *pe.Index < 0 || *pe.Index >= len(l) {
			return nil, "", false
		}
		return l[*pe.Index], strconv.Itoa(*pe.Index), true
	}
	return nil, "", false
}

// item returns the first item of the list l that match selects, and its index.
func item(l any, match func(any) bool) (any, string, bool) {
	items, _ := l.([]any)
	for i, x := range items {
		if match(x) {
			return x, strconv.Itoa(i), true
		}
	}
	return nil, "", false
}

// escape escapes a reference token (RFC 6901).
func escape(tok string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(tok)
}

// jsonText is v as JSON, cut to ValueLimit.
func jsonText(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return cutText(string(raw), ValueLimit)
}

// cutText shortens s to at most limit bytes on a rune boundary, ending in cutMark.
func cutText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	n := limit - len(cutMark)
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + cutMark
}
