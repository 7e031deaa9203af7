package main

import (
	"strings"
	"testing"

	"github.com/tether-io/tether/pkg/version"
)

// TestAgentImageDefault checks that register and migrate default to the
// image 'make image' builds: a registry path and the CLI's version.
func TestAgentImageDefault(t *testing.T) {
	want := "ghcr.io/tether-io/tether-agent:" + version.Version
	for _, cmd := range []string{"register", "migrate"} {
		c, _, err := newRootCommand().Find([]string{cmd})
		if err != nil {
			t.Fatal(err)
		}
		f := c.Flags().Lookup("agent-image")
		if f == nil || f.DefValue != want {
			t.Errorf("%s --agent-image defaults to %v, want %s", cmd, f, want)
		}
		if n := strings.Count(f.Usage, "default"); n > 0 {
			t.Errorf("%s --agent-image help states a default in its text as well (%q): cobra prints it", cmd, f.Usage)
		}
	}
	c, _, _ := newRootCommand().Find([]string{"register"})
	if err := c.Flags().Parse([]string{"--karmada-agent-image", "example.com/a:1"}); err != nil {
		t.Fatal(err)
	}
	if got := c.Flags().Lookup("agent-image").Value.String(); got != "example.com/a:1" {
		t.Errorf("karmadactl's --karmada-agent-image set --agent-image to %q", got)
	}
}
