package credentials

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want Report
		err  string
	}{
		{in: nil, want: Report{}},
		{in: []string{"None"}, want: Report{}},
		{in: []string{"KubeCredentials"}, want: Report{Credentials: true}},
		{in: []string{"KubeImpersonator"}, want: Report{Impersonator: true}},
		{in: []string{"KubeCredentials", "KubeImpersonator"}, want: Report{Credentials: true, Impersonator: true}},
		{in: []string{"KubeCredentials", "None"}, err: "cannot be combined"},
		{in: []string{"kubecredentials"}, err: `"kubecredentials" is not one of`},
	} {
		got, err := Parse(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "--report-secrets")):
			t.Errorf("Parse(%q): %v, want an error naming --report-secrets and %q", tc.in, err, tc.err)
		}
		if err == nil {
			if back, _ := Parse(strings.Split(got.String(), ",")); back != got {
				t.Errorf("String() of %+v does not parse back: %q", got, got.String())
			}
		}
	}
}
