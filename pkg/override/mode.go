package override

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Mode says when the agent renders overrides into a Work's manifests.
type Mode string

const (
	// ModeAuto renders every Work except those Karmada's control plane
	// produced (see ControlPlaneProducer), which arrive rendered or are
	// never overridden. It is the default.
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

// ShouldRender reports whether the agent renders overrides into the
// manifests of work, and why. In ModeAuto a Work that Karmada's control
// plane produced (ControlPlaneProducer) is applied as it arrives; every
// other Work (written on the hub by a user, a pipeline or GitOps) is
// rendered. ModeAlways and ModeNever force either answer. An unknown mode
// behaves as ModeAuto.
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
	if producer, mark := ControlPlaneProducer(work); producer != "" {
		return false, fmt.Sprintf("%s marks a Work of Karmada's %s, which the control plane renders or never overrides", mark, producer)
	}
	return true, "no mark of a Karmada control-plane producer"
}
