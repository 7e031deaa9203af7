package agent

import (
	"fmt"
	"slices"
	"strings"
)

// Controllers --controllers names. Tether runs karmada-agent's execution and
// workStatus as one controller: it applies a Work's manifests and records
// in the Work's status what it applied, which its garbage collection and
// orphan scan read back, so neither half runs alone. serviceExport and
// endpointsliceCollect are the two sources of one reporter (pkg/mcs).
var (
	tetherControllers = []string{"clusterStatus", "execution", "workStatus", "certRotation", "serviceExport", "endpointsliceCollect"}
	// absentControllers are karmada-agent's that Tether does not have: they
	// are accepted and, when named, reported at start. There are none.
	absentControllers []string
	// offByDefault are not enabled by '*', as in karmada-agent.
	offByDefault = []string{"certRotation", "endpointsliceCollect"}
)

// ControllerEnabled reports whether the controller named as in
// --controllers (e.g. "certRotation") runs with these options.
func (o *Options) ControllerEnabled(name string) bool { return o.enabled(name) }

// enabled reports whether controller name runs under --controllers, with
// karmada-agent's rule: the first entry that names it ('name' or '-name')
// decides; otherwise '*' enables it unless it is off by default.
func (o *Options) enabled(name string) bool {
	star := false
	for _, c := range o.Controllers {
		switch c {
		case name:
			return true
		case "-" + name:
			return false
		case "*":
			star = true
		}
	}
	return star && !slices.Contains(offByDefault, name)
}

func (o *Options) validateControllers() error {
	known := append(append([]string{}, tetherControllers...), absentControllers...)
	for _, c := range o.Controllers {
		if name := strings.TrimPrefix(c, "-"); c != "*" && !slices.Contains(known, name) {
			return fmt.Errorf("--controllers: unknown controller %q (known: %s)", c, strings.Join(known, ", "))
		}
	}
	if exec, status := o.enabled("execution"), o.enabled("workStatus"); exec != status {
		off := map[bool]string{true: "workStatus", false: "execution"}[exec]
		return fmt.Errorf("--controllers %s disables %s alone: Tether applies Works and writes their status in one controller "+
			"(the status records what was applied, for garbage collection), so enable or disable execution and workStatus together",
			strings.Join(o.Controllers, ","), off)
	}
	if !o.enabled("clusterStatus") && !o.enabled("execution") {
		return fmt.Errorf("--controllers %s enables none of clusterStatus, execution and workStatus: the agent would have nothing to run", strings.Join(o.Controllers, ","))
	}
	return nil
}
