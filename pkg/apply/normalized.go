package apply

import (
	"strconv"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// Values the apiserver stores in a canonical form.
//
// A live value that differs from the manifest's is drift, unless the
// server rewrote the manifest's value into its canonical form when it was
// applied: a quantity "1000m" is stored as "1", a time
// "2024-01-01T00:00:00.000Z" as "2024-01-01T00:00:00Z". Only those need a
// dry run to tell; any other differing value is a change the apply must
// make, and the engine sends that apply at once instead of asking the
// server first (a dry run, then the apply: two requests for one change).

// valuesDiffer reports whether some path in modified holds, in desired and
// live, two values the server cannot have stored as one: values that are
// not equal quantities nor equal times. A path the engine cannot find in
// both does not count.
func valuesDiffer(desired, live map[string]any, modified *fieldpath.Set) bool {
	found := false
	modified.Iterate(func(p fieldpath.Path) {
		if found {
			return
		}
		d, dFound := valueAt(desired, p)
		l, lFound := valueAt(live, p)
		found = dFound && lFound && !sameQuantity(d, l) && !sameTime(d, l)
	})
	return found
}

// valueAt returns the value at p in obj, an object as JSON decodes it.
func valueAt(obj any, p fieldpath.Path) (any, bool) {
	cur := obj
	for _, pe := range p {
		var found bool
		switch {
		case pe.FieldName != nil:
			m, isMap := cur.(map[string]any)
			cur, found = m[*pe.FieldName]
			found = found && isMap
		case pe.Key != nil:
			cur, found = listItem(cur, func(item any) bool {
				m, isMap := item.(map[string]any)
				for _, f := range *pe.Key {
					if !isMap || m[f.Name] == nil || !value.Equals(value.NewValueInterface(m[f.Name]), f.Value) {
						return false
					}
				}
				return isMap
			})
		case pe.Value != nil:
			cur, found = listItem(cur, func(item any) bool { return value.Equals(value.NewValueInterface(item), *pe.Value) })
		case pe.Index != nil:
			l, isList := cur.([]any)
			found = isList && *pe.Index >= 0 && *pe.Index < len(l)
			if found {
				cur = l[*pe.Index]
			}
		}
		if !found {
			return nil, false
		}
	}
	return cur, true
}

// listItem returns the first item of the list l that match selects.
func listItem(l any, match func(any) bool) (any, bool) {
	items, _ := l.([]any)
	for _, item := range items {
		if match(item) {
			return item, true
		}
	}
	return nil, false
}

// sameQuantity reports whether a and b are one quantity in two spellings.
func sameQuantity(a, b any) bool {
	qa, okA := quantity(a)
	qb, okB := quantity(b)
	return okA && okB && qa.Cmp(qb) == 0
}

func quantity(v any) (resource.Quantity, bool) {
	var s string
	switch t := v.(type) {
	case string:
		s = t
	case int64:
		s = strconv.FormatInt(t, 10)
	case float64:
		s = strconv.FormatFloat(t, 'g', -1, 64)
	default:
		return resource.Quantity{}, false
	}
	q, err := resource.ParseQuantity(s)
	return q, err == nil
}

// sameTime reports whether a and b are one RFC 3339 time in two spellings.
func sameTime(a, b any) bool {
	sa, okA := a.(string)
	sb, okB := b.(string)
	if !okA || !okB {
		return false
	}
	ta, errA := time.Parse(time.RFC3339Nano, sa)
	tb, errB := time.Parse(time.RFC3339Nano, sb)
	return errA == nil && errB == nil && ta.Equal(tb)
}
