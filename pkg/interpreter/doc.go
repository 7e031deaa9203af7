// Package interpreter runs ResourceInterpreterCustomizations
// (config.karmada.io/v1alpha1) at the edge: it keeps the hub's
// customizations in an informer, compiles each script once per
// customization resourceVersion (pkg/interpreter/script runs them in a
// sandbox), and chains them before Tether's built-in rules
// (pkg/status/interpret): for a kind with a statusReflection,
// healthInterpretation or retention script, the script decides; for the
// rest, the built-in rule does.
//
// Where several customizations target one kind, each rule is taken from
// the first customization, by name, that defines it (as Karmada merges
// them). A script that fails to compile, fails, runs over its budget or
// returns the wrong type yields an error for the object it was run on, which
// the Work status reports for that manifest (health Unknown); it is logged
// at most once a minute per customization and rule.
//
// Without the CustomResourceDefinition on the hub, or without permission
// to list and watch customizations, the agent runs on the built-in rules
// alone, says so once, and checks again every Recheck.
package interpreter
