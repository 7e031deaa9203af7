package monitoring

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"unicode"
)

// promqlWords are the PromQL keywords and aggregation operators that are
// not metric names where they appear bare.
var promqlWords = map[string]bool{
	"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
	"bool": true, "offset": true, "and": true, "or": true, "unless": true, "atan2": true,
	"sum": true, "min": true, "max": true, "avg": true, "count": true, "stddev": true, "stdvar": true,
	"group": true, "topk": true, "bottomk": true, "quantile": true, "count_values": true, "limitk": true,
	"inf": true, "nan": true,
}

// labelLists are the keywords followed by a parenthesised list of label
// names.
var labelLists = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true}

// metricNames returns the metric names a PromQL expression selects, sorted
// and unique. Grafana's variables ($job, ${job}, $__rate_interval) are
// allowed where PromQL takes a string or a duration. It tokenizes rather
// than parses: strings, label matchers ({...}), ranges and offsets
// ([5m]), numbers, function names (an identifier before "("), keywords
// and the label lists of by/without/on/ignoring are skipped; every other
// identifier is a metric name. It reports unbalanced brackets and quotes.
func metricNames(expr string) ([]string, error) {
	names := map[string]bool{}
	var stack []rune
	closing := map[rune]rune{')': '(', ']': '[', '}': '{'}
	r := []rune(expr)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case c == '"' || c == '\'' || c == '`':
			end := skipString(r, i)
			if end < 0 {
				return nil, fmt.Errorf("unterminated string at %d in %q", i, expr)
			}
			i = end
		case c == '{' && len(stack) > 0 && stack[len(stack)-1] == '{':
			return nil, fmt.Errorf("nested { at %d in %q", i, expr)
		case c == '(' || c == '[' || c == '{':
			stack = append(stack, c)
			i++
		case c == ')' || c == ']' || c == '}':
			if len(stack) == 0 || stack[len(stack)-1] != closing[c] {
				return nil, fmt.Errorf("unbalanced %c at %d in %q", c, i, expr)
			}
			stack = stack[:len(stack)-1]
			i++
		case c == '$':
			i = skipVariable(r, i)
		case len(stack) > 0 && stack[len(stack)-1] != '(':
			i++ // inside {matchers} or [range]: label names and values, durations
		case isIdentStart(c):
			j := i
			for j < len(r) && isIdent(r[j]) {
				j++
			}
			word := string(r[i:j])
			next := nextNonSpace(r, j)
			switch {
			case labelLists[strings.ToLower(word)] && next < len(r) && r[next] == '(':
				end := strings.IndexRune(string(r[next:]), ')')
				if end < 0 {
					return nil, fmt.Errorf("unterminated label list after %s in %q", word, expr)
				}
				j = next + len([]rune(string(r[next:])[:end+1]))
			case promqlWords[strings.ToLower(word)]:
			case next < len(r) && r[next] == '(':
				// a function
			default:
				names[word] = true
			}
			i = j
		case unicode.IsDigit(c) || c == '.':
			for i < len(r) && (isIdent(r[i]) || r[i] == '.' || ((r[i] == '+' || r[i] == '-') && (r[i-1] == 'e' || r[i-1] == 'E'))) {
				i++
			}
		default:
			i++
		}
	}
	if len(stack) > 0 {
		return nil, fmt.Errorf("unclosed %c in %q", stack[len(stack)-1], expr)
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}

func skipString(r []rune, i int) int {
	q := r[i]
	for j := i + 1; j < len(r); j++ {
		switch {
		case r[j] == '\\' && q != '`':
			j++
		case r[j] == q:
			return j + 1
		}
	}
	return -1
}

func skipVariable(r []rune, i int) int {
	i++
	if i < len(r) && r[i] == '{' {
		for i < len(r) && r[i] != '}' {
			i++
		}
		return i + 1
	}
	for i < len(r) && isIdent(r[i]) {
		i++
	}
	return i
}

func nextNonSpace(r []rune, i int) int {
	for i < len(r) && unicode.IsSpace(r[i]) {
		i++
	}
	return i
}

func isIdentStart(c rune) bool { return c == '_' || c == ':' || unicode.IsLetter(c) }
func isIdent(c rune) bool      { return isIdentStart(c) || unicode.IsDigit(c) }

func TestMetricNames(t *testing.T) {
	cases := map[string]string{
		`sum by (le, host) (rate(rest_client_request_duration_seconds_bucket{job=~"$job", le!="+Inf"}[$__rate_interval]))`: "rest_client_request_duration_seconds_bucket",
		`up{job=~".*tether-agent.*"} == 0 or absent(up{job=~".*tether-agent.*"})`:                                          "up",
		`(min by (namespace) (a_seconds > 0) - time()) < 7 * 24 * 3600`:                                                    "a_seconds",
		`(time() - b_ts > 120) and on(pod) (c == 1) offset 5m`:                                                             "b_ts,c",
		`histogram_quantile(0.99, sum without (instance) (rate(x_bucket[5m]))) > 1e-3`:                                     "x_bucket",
		`max by (namespace, job) (tether_agent_leader{job=~"${job}"}) == 0`:                                                "tether_agent_leader",
	}
	for expr, want := range cases {
		got, err := metricNames(expr)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("metricNames(%q) = %v, %v; want %s", expr, got, err, want)
		}
	}
	for _, bad := range []string{`sum(rate(x[5m])`, `x{a="b"`, `x{a="b}`, `rate(x[5m)]`} {
		if _, err := metricNames(bad); err == nil {
			t.Errorf("metricNames(%q): no error", bad)
		}
	}
}
