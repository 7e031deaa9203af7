package apply

import (
	"errors"
	"fmt"
	"net"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
)

// TerminalError is a failure that retrying cannot fix: the manifest or the
// situation must change first (invalid manifest, unknown kind, a conflict
// with an object Tether does not own, an apiserver validation error).
type TerminalError struct {
	Subject string
	Reason  string
	Err     error
}

func (e *TerminalError) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Subject, e.Reason, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Subject, e.Reason)
}

func (e *TerminalError) Unwrap() error { return e.Err }

// ConflictError is a TerminalError for an existing object that Tether may not take over.
type ConflictError struct{ TerminalError }

// ErrConflictMayResolve, wrapped by a TakeOver refusal, makes the conflict
// transient: it may resolve without a change of the manifest (another
// owner releases the object), so the caller retries it with backoff.
var ErrConflictMayResolve = errors.New("conflict")

// IsTerminal reports whether err should wait for a change of input rather than be retried.
func IsTerminal(err error) bool {
	var t *TerminalError
	var c *ConflictError
	return errors.As(err, &t) || errors.As(err, &c)
}

// IsTransient reports whether retrying err with backoff may succeed: the
// apiserver was unavailable or overloaded, the connection failed, or a
// dependency (a namespace, a CRD) is not there yet.
func IsTransient(err error) bool {
	if err == nil || IsTerminal(err) {
		return false
	}
	var netErr net.Error
	switch {
	case apierrors.IsServerTimeout(err), apierrors.IsTimeout(err), apierrors.IsTooManyRequests(err),
		apierrors.IsServiceUnavailable(err), apierrors.IsInternalError(err), apierrors.IsUnexpectedServerError(err),
		apierrors.IsConflict(err), apierrors.IsNotFound(err), meta.IsNoMatchError(err), errors.As(err, &netErr):
		return true
	}
	var status apierrors.APIStatus
	if errors.As(err, &status) {
		code := status.Status().Code
		return code >= 500 || code == 0
	}
	return true // unknown errors (e.g. connection refused wrapped by url.Error) are retried
}

// classify turns an apiserver error for subject into a TerminalError when
// the request itself was wrong; other errors pass through for retry.
func classify(subject string, err error) error {
	switch {
	case err == nil:
		return nil
	case apierrors.IsInvalid(err), apierrors.IsBadRequest(err), apierrors.IsUnsupportedMediaType(err),
		apierrors.IsRequestEntityTooLargeError(err), apierrors.IsMethodNotSupported(err):
		return &TerminalError{Subject: subject, Reason: "rejected by the member apiserver", Err: err}
	case apierrors.IsForbidden(err) && apierrors.HasStatusCause(err, corev1.NamespaceTerminatingCause):
		return fmt.Errorf("%s: its namespace is being deleted; retrying: %w", subject, err)
	case apierrors.IsForbidden(err):
		return &TerminalError{Subject: subject, Reason: "the agent's member identity may not write it (check the agent's RBAC in the member)", Err: err}
	}
	return fmt.Errorf("%s: %w", subject, err)
}
