package execution

import (
	"slices"
	"testing"

	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// TestWithExecutionFinalizer: the Update fallback adds or removes only the
// execution finalizer and keeps the others.
func TestWithExecutionFinalizer(t *testing.T) {
	const exec = workv1alpha1.ExecutionControllerFinalizer
	for _, tc := range []struct {
		in   []string
		want bool
		out  []string
	}{
		{nil, true, []string{exec}},
		{[]string{"other"}, true, []string{"other", exec}},
		{[]string{exec, "other"}, false, []string{"other"}},
		{[]string{exec}, false, []string{}},
		{nil, false, []string{}},
	} {
		got := withExecutionFinalizer(tc.in, tc.want)
		if !slices.Equal(got, tc.out) || got == nil {
			t.Errorf("withExecutionFinalizer(%q, %v) = %#v, want %q", tc.in, tc.want, got, tc.out)
		}
	}
}
