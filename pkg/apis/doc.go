// Package apis holds Tether's API types. They are wire-compatible with Karmada's
// cluster.karmada.io, work.karmada.io, policy.karmada.io and config.karmada.io
// v1alpha1 groups: the same JSON names, enums, labels, annotations, finalizers
// and conditions, so a stock Karmada control plane cannot tell Tether from
// karmada-agent.
package apis
