// Package diff shows what a server-side apply would change in one member
// object, as 'tether-agent diff' prints it: the live object and the member
// apiserver's dry-run result, both restricted to the fields the field
// manager would own (before and after the apply), as a unified diff of
// their YAML. Secret values are masked: a changed value shows which key
// changed, never the value. It is a pure library over apply.DryRun.
package diff
