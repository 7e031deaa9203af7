package script

import "strings"

// shapes records, by field path (map keys joined, list indices left out),
// where reference objects hold an empty map or an empty list.
type shapes struct{ maps, lists map[string]bool }

func newShapes(refs ...map[string]any) shapes {
	s := shapes{maps: map[string]bool{}, lists: map[string]bool{}}
	for _, r := range refs {
		s.collect(r, nil)
	}
	return s
}

func (s shapes) collect(v any, path []string) {
	switch v := v.(type) {
	case map[string]any:
		if len(v) == 0 {
			s.maps[key(path)] = true
		}
		for k, item := range v {
			s.collect(item, append(path[:len(path):len(path)], k))
		}
	case []any:
		if len(v) == 0 {
			s.lists[key(path)] = true
		}
		for _, item := range v {
			s.collect(item, path)
		}
	}
}

func key(path []string) string { return strings.Join(path, "\x00") }

// resolve replaces each empty table in v: with {} where the references had
// an empty map at its path, with [] where they had an empty list, and drops
// it elsewhere (nil is returned for a dropped value).
func (s shapes) resolve(v any, path []string) (any, bool) {
	switch v := v.(type) {
	case empty:
		switch k := key(path); {
		case s.maps[k]:
			return map[string]any{}, true
		case s.lists[k]:
			return []any{}, true
		}
		return nil, false
	case map[string]any:
		for k, item := range v {
			if r, keep := s.resolve(item, append(path[:len(path):len(path)], k)); keep {
				v[k] = r
			} else {
				delete(v, k)
			}
		}
	case []any:
		out := v[:0]
		for _, item := range v {
			if r, keep := s.resolve(item, path); keep {
				out = append(out, r)
			}
		}
		return out, true
	}
	return v, true
}
