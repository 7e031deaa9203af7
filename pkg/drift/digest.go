package drift

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DigestAnnotation records on a member object the digest of the manifest
// it was last applied from (Digest).
const DigestAnnotation = "tether.io/applied-digest"

// digestLen is how many hex digits of the sha256 the digest keeps: 64 bits
// tell two versions of one manifest apart with no practical risk of a
// collision, and keep the annotation short.
const digestLen = 16

// Digest is the short sha256 of obj, a rendered manifest, without the
// DigestAnnotation itself. encoding/json sorts map keys, so equal objects
// give equal digests.
func Digest(obj *unstructured.Unstructured) string {
	c := obj.DeepCopy()
	dropDigest(c)
	raw, err := json.Marshal(c.Object)
	if err != nil {
		return "" // not JSON: such an object is never applied
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])[:digestLen]
}

// StampDigest sets the DigestAnnotation of obj to its Digest. An object
// that cannot be digested is left without the annotation.
func StampDigest(obj *unstructured.Unstructured) {
	d := Digest(obj)
	if d == "" {
		return
	}
	a := obj.GetAnnotations()
	if a == nil {
		a = map[string]string{}
	}
	a[DigestAnnotation] = d
	obj.SetAnnotations(a)
}

// DigestOf returns the DigestAnnotation of obj, "" when it has none.
func DigestOf(obj *unstructured.Unstructured) string {
	return obj.GetAnnotations()[DigestAnnotation]
}

// WithoutDigest returns a copy of obj without the DigestAnnotation.
func WithoutDigest(obj *unstructured.Unstructured) *unstructured.Unstructured {
	c := obj.DeepCopy()
	dropDigest(c)
	return c
}

// dropDigest removes the DigestAnnotation from obj, and the annotations
// map when it was the only one.
func dropDigest(obj *unstructured.Unstructured) {
	a := obj.GetAnnotations()
	if _, ok := a[DigestAnnotation]; !ok {
		return
	}
	delete(a, DigestAnnotation)
	if len(a) == 0 {
		unstructured.RemoveNestedField(obj.Object, "metadata", "annotations")
		return
	}
	obj.SetAnnotations(a)
}
