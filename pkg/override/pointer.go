package override

import (
	"fmt"
	"strconv"
	"strings"
)

// pointer is a parsed RFC 6901 JSON pointer: its reference tokens, unescaped.
type pointer []string

// parsePointer parses an RFC 6901 JSON pointer. The empty string is the
// whole document; anything else must start with "/". "~" must be followed
// by "0" or "1".
func parsePointer(s string) (pointer, error) {
	if s == "" {
		return pointer{}, nil
	}
	if s[0] != '/' {
		return nil, fmt.Errorf("JSON pointer %q does not start with /", s)
	}
	tokens := strings.Split(s[1:], "/")
	for i, t := range tokens {
		if !strings.Contains(t, "~") {
			continue
		}
		for j := 0; j < len(t); j++ {
			if t[j] == '~' && (j+1 == len(t) || (t[j+1] != '0' && t[j+1] != '1')) {
				return nil, fmt.Errorf("JSON pointer %q has a ~ not followed by 0 or 1", s)
			}
		}
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return tokens, nil
}

// escapeToken escapes one reference token for use in a JSON pointer.
func escapeToken(t string) string {
	return strings.ReplaceAll(strings.ReplaceAll(t, "~", "~0"), "/", "~1")
}

// joinPointer builds a JSON pointer from unescaped tokens.
func joinPointer(tokens ...string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapeToken(t))
	}
	return b.String()
}

// arrayIndex parses a reference token as an index into a list of length n.
func arrayIndex(token string, n int) (int, error) {
	if token == "" || (len(token) > 1 && token[0] == '0') {
		return 0, fmt.Errorf("%q is not an array index", token)
	}
	i, err := strconv.Atoi(token)
	if err != nil || i < 0 {
		return 0, fmt.Errorf("%q is not an array index", token)
	}
	if i >= n {
		return 0, fmt.Errorf("index %d is out of range (length %d)", i, n)
	}
	return i, nil
}

// get returns the value the pointer refers to in doc.
func (p pointer) get(doc any) (any, error) {
	cur := doc
	for depth, token := range p {
		switch node := cur.(type) {
		case map[string]any:
			v, ok := node[token]
			if !ok {
				return nil, fmt.Errorf("%s does not exist", joinPointer(p[:depth+1]...))
			}
			cur = v
		case []any:
			i, err := arrayIndex(token, len(node))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", joinPointer(p[:depth+1]...), err)
			}
			cur = node[i]
		default:
			return nil, fmt.Errorf("%s is not an object or array", joinPointer(p[:depth]...))
		}
	}
	return cur, nil
}

// getString returns the string the pointer refers to in doc.
func (p pointer) getString(doc any) (string, error) {
	v, err := p.get(doc)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("%s is a %s, not a string", joinPointer(p...), jsonType(v))
	}
	return s, nil
}

// replace sets the value at an existing location; the root cannot be replaced.
func (p pointer) replace(doc any, value any) error {
	if len(p) == 0 {
		return fmt.Errorf("cannot replace the whole object")
	}
	parent, err := p[:len(p)-1].get(doc)
	if err != nil {
		return err
	}
	last := p[len(p)-1]
	switch node := parent.(type) {
	case map[string]any:
		if _, ok := node[last]; !ok {
			return fmt.Errorf("%s does not exist", joinPointer(p...))
		}
		node[last] = value
	case []any:
		i, err := arrayIndex(last, len(node))
		if err != nil {
			return fmt.Errorf("%s: %w", joinPointer(p...), err)
		}
		node[i] = value
	default:
		return fmt.Errorf("%s is not an object or array", joinPointer(p[:len(p)-1]...))
	}
	return nil
}

// jsonType names the JSON type of a decoded value, for error messages.
func jsonType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case int64, float64, int, int32, float32:
		return "number"
	default:
		return fmt.Sprintf("%T", v)
	}
}
