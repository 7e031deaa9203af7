package agent

import "testing"

func TestMemoryLimit(t *testing.T) {
	env := func(kv map[string]string) func(string) (string, bool) {
		return func(k string) (string, bool) { v, ok := kv[k]; return v, ok }
	}
	cases := []struct {
		name string
		env  map[string]string
		want int64
		ok   bool
	}{
		{"from the container limit, with headroom", map[string]string{MemoryLimitEnv: "536870912"}, 483183820, true},
		{"GOMEMLIMIT wins", map[string]string{MemoryLimitEnv: "536870912", "GOMEMLIMIT": "100MiB"}, 0, false},
		{"no limit", map[string]string{}, 0, false},
		{"not a number", map[string]string{MemoryLimitEnv: "512Mi"}, 0, false},
		{"zero (no limit set on the container)", map[string]string{MemoryLimitEnv: "0"}, 0, false},
	}
	for _, tc := range cases {
		got, ok := memoryLimit(env(tc.env))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: memoryLimit = %d, %v; want %d, %v", tc.name, got, ok, tc.want, tc.ok)
		}
	}
}
