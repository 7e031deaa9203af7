package testenv

import (
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// Must returns v, and fails the test when err is not nil: for setup steps
// whose failure leaves nothing to test.
func Must[T any](t testing.TB, v T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
	return v
}

// NoError fails the test when err is not nil: Must for steps with no
// result.
func NoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("setup: %v", err)
	}
}

// IgnoreExists drops a create's result, and its error when the object
// already exists: NoError(t, IgnoreExists(c.Create(...))).
func IgnoreExists[T any](_ T, err error) error {
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}
