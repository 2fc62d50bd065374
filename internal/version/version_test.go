package version

import (
	"runtime"
	"runtime/debug"
	"testing"
)

func TestResolve(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: modified}}}
	}
	tests := []struct {
		name             string
		linkedV, linkedR string
		bi               *debug.BuildInfo
		wantV, wantR     string
	}{
		{"link-time values win", "v0.3.0-4-gabc1234", "abc1234", vcs("fff", "true"), "v0.3.0-4-gabc1234", "abc1234"},
		{"revision from the embedded VCS info", "v0.3.0", "", vcs("0123abcd", "false"), "v0.3.0", "0123abcd"},
		{"a modified tree is dirty", "", "", vcs("0123abcd", "true"), "dev", "0123abcd-dirty"},
		{"go install of a tagged module", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.4.1"}}, "v0.4.1", "unknown"},
		{"nothing known", "", "", nil, "dev", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := resolve(tt.linkedV, tt.linkedR, tt.bi)
			want := Info{Version: tt.wantV, Revision: tt.wantR, GoVersion: runtime.Version()}
			if got != want {
				t.Errorf("resolve = %+v, want %+v", got, want)
			}
		})
	}
}
