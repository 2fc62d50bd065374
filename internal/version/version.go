// Package version says which build of igconnect is running. The Makefile stamps the version
// (`git describe`) into the binary with -ldflags -X; the revision comes from the same flag or,
// for a plain `go build` in a Git checkout, from the VCS information Go embeds.
package version

import (
	"runtime"
	"runtime/debug"
)

// version and revision are set at link time:
//
//	go build -ldflags "-X github.com/igconnect/igconnect/internal/version.version=v0.3.0" ./cmd
//
// They stay empty for a build without the flags, and Get falls back to the build info.
var (
	version  string
	revision string
)

// Info is the identity of this build, as igconnect_build_info exports it.
type Info struct {
	// Version is the release (`git describe --tags --always --dirty`), or "dev".
	Version string
	// Revision is the Git commit the binary was built from, or "unknown".
	Revision string
	// GoVersion is the Go toolchain that built it, e.g. go1.26.8.
	GoVersion string
}

// Get returns this binary's build identity.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return resolve(version, revision, bi)
}

// resolve prefers the link-time values and falls back to what Go recorded in the binary.
func resolve(linkedVersion, linkedRevision string, bi *debug.BuildInfo) Info {
	info := Info{Version: linkedVersion, Revision: linkedRevision, GoVersion: runtime.Version()}
	if bi != nil {
		if info.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			info.Version = bi.Main.Version
		}
		if info.Revision == "" {
			info.Revision = vcsRevision(bi.Settings)
		}
	}
	if info.Version == "" {
		info.Version = "dev"
	}
	if info.Revision == "" {
		info.Revision = "unknown"
	}
	return info
}

// vcsRevision reads the commit Go embeds for a build in a checkout (-buildvcs), marking a
// build from a modified tree "-dirty" as `git describe --dirty` does.
func vcsRevision(settings []debug.BuildSetting) string {
	var rev string
	dirty := false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev != "" && dirty {
		rev += "-dirty"
	}
	return rev
}
