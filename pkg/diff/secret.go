package diff

import (
	"reflect"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// Masks shown in place of a Secret's values.
const (
	masked       = "***"
	maskedBefore = "*** (before)"
	maskedAfter  = "*** (after)"
)

// isSecret reports whether obj is a core Secret.
func isSecret(obj *unstructured.Unstructured) bool {
	return obj != nil && obj.GetKind() == "Secret" && obj.GetAPIVersion() == "v1"
}

// maskSecret replaces every value of a Secret's data and stringData in
// before and after (either may be nil) with a mask that says only whether
// the value changed, so that a diff shows the keys but never a value.
func maskSecret(before, after map[string]any) {
	for _, field := range []string{"data", "stringData"} {
		b, _ := before[field].(map[string]any)
		a, _ := after[field].(map[string]any)
		for k, bv := range b {
			av, both := a[k]
			switch {
			case !both:
				b[k] = masked
			case reflect.DeepEqual(av, bv):
				b[k], a[k] = masked, masked
			default:
				b[k], a[k] = maskedBefore, maskedAfter
			}
		}
		for k := range a {
			if _, both := b[k]; !both {
				a[k] = masked
			}
		}
	}
}
