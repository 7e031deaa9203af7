package override

import (
	"errors"
	"fmt"
	"strings"
)

// Kinds of the two policy types, as they appear in PolicyRef.Kind.
const (
	KindClusterOverridePolicy = "ClusterOverridePolicy"
	KindOverridePolicy        = "OverridePolicy"
)

// DeprecatedRule is the rule index reported for the deprecated
// spec.targetCluster + spec.overriders form, which counts as one rule.
const DeprecatedRule = -1

// PolicyRef names a policy: its kind, namespace (empty for a
// ClusterOverridePolicy) and name.
type PolicyRef struct {
	Kind      string
	Namespace string
	Name      string
}

// String returns "Kind name" or "Kind namespace/name".
func (p PolicyRef) String() string {
	if p.Namespace == "" {
		return p.Kind + " " + p.Name
	}
	return p.Kind + " " + p.Namespace + "/" + p.Name
}

// PolicyError says which part of which policy could not be applied.
type PolicyError struct {
	// Policy is the faulty policy.
	Policy PolicyRef
	// Rule is the index in spec.overrideRules, or DeprecatedRule.
	Rule int
	// Overrider is the overrider list (e.g. "imageOverrider"), or empty when
	// the fault lies in the rule's targetCluster.
	Overrider string
	// Index is the entry in that overrider list.
	Index int
	// Field is the field inside the entry (or inside the rule when Overrider
	// is empty), e.g. "value" or "predicate.path"; it may be empty.
	Field string
	// Err is the cause.
	Err error
}

// Path returns the field path inside the policy, such as
// "spec.overrideRules[0].overriders.imageOverrider[1].value".
func (e *PolicyError) Path() string {
	var b strings.Builder
	b.WriteString("spec")
	if e.Rule >= 0 {
		fmt.Fprintf(&b, ".overrideRules[%d]", e.Rule)
	}
	if e.Overrider != "" {
		fmt.Fprintf(&b, ".overriders.%s[%d]", e.Overrider, e.Index)
	}
	if e.Field != "" {
		b.WriteString(".")
		b.WriteString(e.Field)
	}
	return b.String()
}

func (e *PolicyError) Error() string {
	return fmt.Sprintf("%s: %s: %v", e.Policy, e.Path(), e.Err)
}

func (e *PolicyError) Unwrap() error { return e.Err }

// entryError locates a fault inside one entry of an overrider list; the
// renderer turns it into a PolicyError.
type entryError struct {
	index int
	field string
	err   error
}

func (e *entryError) Error() string {
	return fmt.Sprintf("[%d].%s: %v", e.index, e.field, e.err)
}

func (e *entryError) Unwrap() error { return e.err }

// fieldError is a fault in one field of the entry being applied.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }

func (e *fieldError) Unwrap() error { return e.err }

// errField returns a fieldError for field with a formatted cause.
func errField(field, format string, args ...any) error {
	return &fieldError{field: field, err: fmt.Errorf(format, args...)}
}

// atEntry wraps err, returned while applying entry index, as an entryError.
func atEntry(index int, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return &entryError{index: index, field: fe.field, err: fe.err}
	}
	return &entryError{index: index, err: err}
}

// prefixed adds a prefix (usually the manifest path concerned) to err's
// message, keeping the field a fieldError names.
func prefixed(prefix string, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return &fieldError{field: fe.field, err: fmt.Errorf("%s: %w", prefix, fe.err)}
	}
	return fmt.Errorf("%s: %w", prefix, err)
}

// prefixField prefixes the field a fieldError names (e.g. "json[2]." before
// "subPath").
func prefixField(prefix string, err error) error {
	var fe *fieldError
	if errors.As(err, &fe) {
		return &fieldError{field: prefix + fe.field, err: fe.err}
	}
	return &fieldError{field: strings.TrimSuffix(prefix, "."), err: err}
}
