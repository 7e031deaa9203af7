package override

import (
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// imageRef is a container image reference split into the components an
// imageOverrider edits, exactly as the user spelled them: no default
// registry, no "library/" namespace, no default tag. String joins them back
// so that an untouched reference comes out byte for byte as it went in.
type imageRef struct {
	// registry is the first path segment when it contains "." or ":" or is
	// "localhost" (Karmada's and Docker's rule), else empty.
	registry string
	// repository is the rest of the name.
	repository string
	// tag and digest are what follow ":" and "@"; either, both or neither.
	tag    string
	digest string
}

// parseImage validates image with go-containerregistry's reference grammar
// and splits it into its components without normalising them.
func parseImage(image string) (imageRef, error) {
	if _, err := name.ParseReference(image, name.WeakValidation); err != nil {
		return imageRef{}, fmt.Errorf("image %q does not parse: %w", image, err)
	}
	var ref imageRef
	rest := image
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest, ref.digest = rest[:i], rest[i+1:]
	}
	if i := strings.LastIndexByte(rest, ':'); i >= 0 && !strings.Contains(rest[i+1:], "/") {
		rest, ref.tag = rest[:i], rest[i+1:]
	}
	ref.repository = rest
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		if first := rest[:i]; first == "localhost" || strings.ContainsAny(first, ".:") {
			ref.registry, ref.repository = first, rest[i+1:]
		}
	}
	if err := checkRepositoryPath(ref.repository); err != nil {
		return imageRef{}, fmt.Errorf("image %q does not parse: %w", image, err)
	}
	return ref, nil
}

// checkRepositoryPath applies the part of the distribution grammar that
// go-containerregistry's weak validation skips (and kubelets enforce): each
// "/"-separated component is lowercase letters and digits, joined by ".",
// "_", "__" or a run of "-".
func checkRepositoryPath(repository string) error {
	for _, component := range strings.Split(repository, "/") {
		if !validPathComponent(component) {
			return fmt.Errorf("repository component %q must be lowercase letters and digits joined by '.', '_', '__' or '-'", component)
		}
	}
	return nil
}

func validPathComponent(s string) bool {
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if s == "" || !alnum(s[0]) || !alnum(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); {
		if alnum(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && !alnum(s[j]) {
			j++
		}
		if sep := s[i:j]; sep != "." && sep != "_" && sep != "__" && strings.Trim(sep, "-") != "" {
			return false
		}
		i = j
	}
	return true
}

// String joins the components: [registry/]repository[:tag][@digest].
func (r imageRef) String() string {
	var b strings.Builder
	if r.registry != "" {
		b.WriteString(r.registry)
		b.WriteByte('/')
	}
	b.WriteString(r.repository)
	if r.tag != "" {
		b.WriteByte(':')
		b.WriteString(r.tag)
	}
	if r.digest != "" {
		b.WriteByte('@')
		b.WriteString(r.digest)
	}
	return b.String()
}

// tagOrDigest returns the tag if there is one, else the digest.
func (r imageRef) tagOrDigest() string {
	if r.tag != "" {
		return r.tag
	}
	return r.digest
}

// withTagOrDigest returns r with its tag and digest replaced by value, which
// must be a tag ([\w][\w.-]{0,127}) or a digest (algorithm:hex, checked by
// go-containerregistry). Unlike Karmada, which leaves the image unchanged
// when the value is neither, a value that does not parse is an error.
func (r imageRef) withTagOrDigest(value string) (imageRef, error) {
	if strings.Contains(value, ":") {
		if _, err := name.NewDigest("tether.invalid/image@"+value, name.StrictValidation); err != nil {
			return r, fmt.Errorf("digest %q does not parse: %w", value, err)
		}
		r.tag, r.digest = "", value
		return r, nil
	}
	if err := checkTag(value); err != nil {
		return r, err
	}
	r.tag, r.digest = value, ""
	return r, nil
}

// checkTag validates a tag: go-containerregistry's character set and length,
// plus the first-character rule of the distribution grammar ([\w]).
func checkTag(tag string) error {
	if tag == "" {
		return fmt.Errorf("the tag is empty")
	}
	if strings.ContainsAny(tag, "/@") {
		return fmt.Errorf("tag %q does not parse: it contains / or @", tag)
	}
	if _, err := name.NewTag("tether.invalid/image:"+tag, name.StrictValidation); err != nil {
		return fmt.Errorf("tag %q does not parse: %w", tag, err)
	}
	if tag[0] == '.' || tag[0] == '-' {
		return fmt.Errorf("tag %q does not parse: it must start with a letter, a digit or _", tag)
	}
	return nil
}
