package capacity

import (
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Resources is an amount of each resource in integer units: milli-CPU,
// bytes of memory and ephemeral storage, a count of pods, and whole units
// (Quantity.Value) of anything else. Its zero value is empty.
type Resources struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	Pods             int64
	// Scalar holds the other resources: extended resources, hugepages,
	// attachable volumes. Nil when there are none.
	Scalar map[corev1.ResourceName]int64
}

// FromList converts a ResourceList, rounding fractions up as
// Quantity.Value does.
func FromList(list corev1.ResourceList) Resources {
	var r Resources
	for name, q := range list {
		r.add(name, amount(name, q))
	}
	return r
}

func amount(name corev1.ResourceName, q resource.Quantity) int64 {
	if name == corev1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

// Get returns the amount of one resource.
func (r Resources) Get(name corev1.ResourceName) int64 {
	switch name {
	case corev1.ResourceCPU:
		return r.MilliCPU
	case corev1.ResourceMemory:
		return r.Memory
	case corev1.ResourceEphemeralStorage:
		return r.EphemeralStorage
	case corev1.ResourcePods:
		return r.Pods
	default:
		return r.Scalar[name]
	}
}

func (r *Resources) add(name corev1.ResourceName, v int64) {
	switch name {
	case corev1.ResourceCPU:
		r.MilliCPU += v
	case corev1.ResourceMemory:
		r.Memory += v
	case corev1.ResourceEphemeralStorage:
		r.EphemeralStorage += v
	case corev1.ResourcePods:
		r.Pods += v
	default:
		if v == 0 {
			return
		}
		if r.Scalar == nil {
			r.Scalar = map[corev1.ResourceName]int64{}
		}
		r.Scalar[name] += v
	}
}

// Add adds o to r.
func (r *Resources) Add(o Resources) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.Pods += o.Pods
	for name, v := range o.Scalar {
		r.add(name, v)
	}
}

// Sub subtracts o from r; amounts may go negative.
func (r *Resources) Sub(o Resources) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.Pods -= o.Pods
	for name, v := range o.Scalar {
		r.add(name, -v)
	}
}

// Clone returns a copy that shares nothing with r.
func (r Resources) Clone() Resources {
	r.Scalar = maps.Clone(r.Scalar)
	return r
}

// List converts r to a ResourceList in Karmada's formats, leaving out zero
// amounts; it returns nil when every amount is zero.
func (r Resources) List() corev1.ResourceList {
	out := corev1.ResourceList{}
	put := func(name corev1.ResourceName, v int64) {
		if v != 0 {
			out[name] = quantity(name, v)
		}
	}
	put(corev1.ResourceCPU, r.MilliCPU)
	put(corev1.ResourceMemory, r.Memory)
	put(corev1.ResourceEphemeralStorage, r.EphemeralStorage)
	put(corev1.ResourcePods, r.Pods)
	for name, v := range r.Scalar {
		put(name, v)
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func quantity(name corev1.ResourceName, v int64) resource.Quantity {
	switch {
	case name == corev1.ResourceCPU:
		return *resource.NewMilliQuantity(v, resource.DecimalSI)
	case name == corev1.ResourceMemory, name == corev1.ResourceEphemeralStorage,
		strings.HasPrefix(string(name), corev1.ResourceHugePagesPrefix):
		return *resource.NewQuantity(v, resource.BinarySI)
	default:
		return *resource.NewQuantity(v, resource.DecimalSI)
	}
}
