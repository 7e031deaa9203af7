// Package version reports the version Tether was built as.
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Version is stamped at link time by 'make build' (-X); "dev" otherwise.
var Version = "dev"

// Info is what 'tether-agent version' prints.
type Info struct {
	Version   string `json:"version"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
	Commit    string `json:"commit,omitempty"`
}

// Get returns the build information of the running binary.
func Get() Info {
	info := Info{Version: Version, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info.Commit = s.Value
			}
		}
	}
	return info
}

// String formats the information on one line.
func (i Info) String() string {
	s := fmt.Sprintf("tether-agent %s (%s, %s)", i.Version, i.GoVersion, i.Platform)
	if i.Commit != "" {
		s += " commit " + i.Commit
	}
	return s
}
