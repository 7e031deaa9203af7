package override

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	policyv1alpha1 "github.com/tether-io/tether/pkg/apis/policy/v1alpha1"
	workv1alpha1 "github.com/tether-io/tether/pkg/apis/work/v1alpha1"
)

// Mode says when the agent renders overrides into a Work's manifests.
type Mode string

const (
	// ModeAuto renders every Work except those a Karmada binding controller
	// produced, which arrive already rendered. It is the default.
	ModeAuto Mode = "Auto"
	// ModeAlways renders every Work, even one Karmada already rendered.
	ModeAlways Mode = "Always"
	// ModeNever renders no Work: manifests are applied as they arrive.
	ModeNever Mode = "Never"
)

// Modes lists the valid modes, for flag help.
func Modes() []Mode { return []Mode{ModeAuto, ModeAlways, ModeNever} }

// ParseMode parses a mode, ignoring case; the empty string is ModeAuto.
func ParseMode(s string) (Mode, error) {
	if s == "" {
		return ModeAuto, nil
	}
	for _, m := range Modes() {
		if strings.EqualFold(s, string(m)) {
			return m, nil
		}
	}
	return "", fmt.Errorf("unknown render mode %q: use Auto, Always or Never", s)
}

// renderedMarks are the labels and annotations with which a Karmada binding
// controller marks a Work it rendered (karmada-compat.md, header and §1.1).
func renderedMarks() (labels, annotations []string) {
	return []string{
			workv1alpha1.ResourceBindingPermanentIDLabel,
			workv1alpha1.ClusterResourceBindingPermanentIDLabel,
		}, []string{
			policyv1alpha1.AppliedOverrides,
			policyv1alpha1.AppliedClusterOverrides,
		}
}

// ShouldRender reports whether the agent renders overrides into the
// manifests of work, and why. In ModeAuto a Work that carries a
// resourcebinding.karmada.io/permanent-id or
// clusterresourcebinding.karmada.io/permanent-id label, or a
// policy.karmada.io/applied-overrides or applied-cluster-overrides
// annotation, was rendered by Karmada and is not rendered again; every other
// Work is rendered. ModeAlways and ModeNever force either answer. An unknown
// mode behaves as ModeAuto.
func ShouldRender(mode Mode, work metav1.Object) (bool, string) {
	switch mode {
	case ModeAlways:
		return true, "render mode is Always"
	case ModeNever:
		return false, "render mode is Never"
	}
	if work == nil {
		return false, "no Work"
	}
	labelKeys, annotationKeys := renderedMarks()
	for _, k := range labelKeys {
		if _, ok := work.GetLabels()[k]; ok {
			return false, fmt.Sprintf("label %s marks a Work Karmada already rendered", k)
		}
	}
	for _, k := range annotationKeys {
		if _, ok := work.GetAnnotations()[k]; ok {
			return false, fmt.Sprintf("annotation %s marks a Work Karmada already rendered", k)
		}
	}
	return true, "no Karmada binding label or applied-overrides annotation"
}
