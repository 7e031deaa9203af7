package drift

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// DigestLabel records on a member object the digest of the manifest it was
// last applied from (Digest). A label, not an annotation: a Deployment's
// generation moves with every change of its annotations, which it also
// copies to its ReplicaSets, while a label changes nothing but itself.
const DigestLabel = "tether.io/applied-digest"

// digestLen is how many hex digits of the sha256 the digest keeps: 64 bits
// tell two versions of one manifest apart with no practical risk of a
// collision, and keep the label short.
const digestLen = 16

// Digest is the short sha256 of obj, a rendered manifest, without the
// DigestLabel itself. encoding/json sorts map keys, so equal objects
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

// StampDigest sets the DigestLabel of obj to its Digest. An object that
// cannot be digested is left without the label.
func StampDigest(obj *unstructured.Unstructured) {
	d := Digest(obj)
	if d == "" {
		return
	}
	l := obj.GetLabels()
	if l == nil {
		l = map[string]string{}
	}
	l[DigestLabel] = d
	obj.SetLabels(l)
}

// DigestOf returns the DigestLabel of obj, "" when it has none.
func DigestOf(obj *unstructured.Unstructured) string {
	return obj.GetLabels()[DigestLabel]
}

// WithoutDigest returns a copy of obj without the DigestLabel.
func WithoutDigest(obj *unstructured.Unstructured) *unstructured.Unstructured {
	c := obj.DeepCopy()
	dropDigest(c)
	return c
}

// dropDigest removes the DigestLabel from obj, and the labels map when it
// was the only one.
func dropDigest(obj *unstructured.Unstructured) {
	l := obj.GetLabels()
	if _, ok := l[DigestLabel]; !ok {
		return
	}
	delete(l, DigestLabel)
	if len(l) == 0 {
		unstructured.RemoveNestedField(obj.Object, "metadata", "labels")
		return
	}
	obj.SetLabels(l)
}
