package aggregate

import (
	"cmp"
	"encoding/json"
	"slices"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// service aggregates a LoadBalancer Service; other Service types have no
// aggregated status.
func service(template *unstructured.Unstructured, items []Item) (any, error) {
	if t, _, _ := unstructured.NestedString(template.Object, "spec", "type"); t != string(corev1.ServiceTypeLoadBalancer) {
		return nil, nil
	}
	return loadBalancerIngress(template, items)
}

// loadBalancerIngress concatenates status.loadBalancer.ingress of every
// cluster, without duplicates, sorted by ip, then hostname (Service and
// Ingress). Entries are kept whole, whatever fields they have.
func loadBalancerIngress(_ *unstructured.Unstructured, items []Item) (any, error) {
	type entry struct {
		ip, hostname, canonical string
		value                   map[string]any
	}
	var entries []entry
	for _, it := range items {
		var s struct {
			LoadBalancer struct {
				Ingress []map[string]any `json:"ingress"`
			} `json:"loadBalancer"`
		}
		if _, err := decode(it, &s); err != nil {
			return nil, err
		}
		for _, ing := range s.LoadBalancer.Ingress {
			canonical, _ := json.Marshal(ing) // sorted keys: equal entries are equal strings
			ip, _ := ing["ip"].(string)
			hostname, _ := ing["hostname"].(string)
			entries = append(entries, entry{ip, hostname, string(canonical), ing})
		}
	}
	slices.SortFunc(entries, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.ip, b.ip), cmp.Compare(a.hostname, b.hostname), cmp.Compare(a.canonical, b.canonical))
	})
	entries = slices.CompactFunc(entries, func(a, b entry) bool { return a.canonical == b.canonical })
	ingress := make([]map[string]any, len(entries))
	for i, e := range entries {
		ingress[i] = e.value
	}
	return map[string]any{"loadBalancer": map[string]any{"ingress": ingress}}, nil
}
