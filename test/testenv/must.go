package testenv

import "testing"

// Must returns v, and fails the test when err is not nil: for setup steps
// whose failure leaves nothing to test.
func Must[T any](t testing.TB, v T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	return v
}
