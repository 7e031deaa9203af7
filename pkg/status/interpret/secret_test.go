package interpret

import "testing"

// Nothing of a Secret reaches the hub: no reflected status, whatever the
// object holds.
func TestSecretReflectsNothing(t *testing.T) {
	for name, manifest := range map[string]string{
		"a plain Secret": `{apiVersion: v1, kind: Secret, metadata: {name: s, namespace: ns}, type: Opaque,
			data: {password: c2VjcmV0LXZhbHVl}, stringData: {token: secret-value}}`,
		"a Secret that carries a status": `{apiVersion: v1, kind: Secret, metadata: {name: s, namespace: ns},
			data: {password: c2VjcmV0LXZhbHVl}, status: {copy: secret-value, phase: Ready}}`,
	} {
		t.Run(name, func(t *testing.T) {
			obj := object(t, manifest)
			got, err := ReflectStatus(obj)
			if err != nil || got != nil {
				t.Fatalf("ReflectStatus = %v, %v; want nothing", got, err)
			}
		})
	}
}
