package override

import (
	"fmt"
)

// podSpecPath returns where the pod spec sits in a manifest of the given
// kind: /spec for a Pod, /spec/template/spec for a ReplicaSet, Deployment,
// DaemonSet, StatefulSet or Job. Other kinds (CronJob included) have no
// default pod spec, as in Karmada, and get nil.
func podSpecPath(kind string) []string {
	switch kind {
	case "Pod":
		return []string{"spec"}
	case "ReplicaSet", "Deployment", "DaemonSet", "StatefulSet", "Job":
		return []string{"spec", "template", "spec"}
	default:
		return nil
	}
}

// containersOf returns the path of the manifest's containers list (not
// initContainers) and its entries as objects. A kind without a default pod
// spec, or a manifest without containers, yields an empty list.
func containersOf(obj map[string]any, kind string) ([]string, []map[string]any, error) {
	spec := podSpecPath(kind)
	if spec == nil {
		return nil, nil, nil
	}
	path := append(spec, "containers")
	var raw any = obj
	for depth, key := range path {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("%s is a %s, not an object", joinPointer(path[:depth]...), jsonType(raw))
		}
		if raw = m[key]; raw == nil {
			return path, nil, nil
		}
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, nil, fmt.Errorf("%s is a %s, not an array", joinPointer(path...), jsonType(raw))
	}
	containers := make([]map[string]any, len(list))
	for i, c := range list {
		m, ok := c.(map[string]any)
		if !ok {
			return nil, nil, fmt.Errorf("%s/%d is a %s, not an object", joinPointer(path...), i, jsonType(c))
		}
		containers[i] = m
	}
	return path, containers, nil
}
