/*
Copyright 2026 The igconnect Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package plugin

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestReadToken(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if got, err := readToken(write("ok", "IGAAsecret123\n"), nil); err != nil || string(got) != "IGAAsecret123" {
		t.Errorf("readToken = %q, %v", got, err)
	}
	if got, err := readToken("-", strings.NewReader("  IGAAfromstdin \n")); err != nil || string(got) != "IGAAfromstdin" {
		t.Errorf("readToken(-) = %q, %v", got, err)
	}
	bad := []struct{ name, path, want string }{
		{"no flag", "", "--token-file FILE"},
		{"missing file", filepath.Join(dir, "absent"), "no such file"},
		{"empty", write("empty", "\n"), "is empty"},
		{"two words", write("two", "IGAAsecret123 IGAAother456"), "more than one word"},
		{"huge", write("huge", strings.Repeat("a", maxTokenFileSize+1)), "larger than"},
	}
	for _, tc := range bad {
		_, err := readToken(tc.path, nil)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to say %q", tc.name, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "IGAA") {
			t.Errorf("%s: the error repeats the file's content: %v", tc.name, err)
		}
	}
}

func TestJudgeSkew(t *testing.T) {
	if r, _ := JudgeSkew(800 * time.Millisecond); r != checkOK {
		t.Errorf("a sub-second skew is %s", r)
	}
	r, detail := JudgeSkew(-2 * time.Minute)
	if r != checkWarn || !strings.Contains(detail, "2m0s behind") {
		t.Errorf("a 2-minute lag: %s %q", r, detail)
	}
	local := time.Date(2026, 12, 1, 10, 0, 5, 900e6, time.UTC)
	if got := ClockSkew(local, local.Truncate(time.Second)); got != 0 {
		t.Errorf("ClockSkew at the Date header's precision = %s, want 0", got)
	}
}

func TestCallbackBase(t *testing.T) {
	cases := map[string]string{
		"https://ig.example.com/auth/instagram/start?ticket=x":      "https://ig.example.com",
		"https://ex.com/igconnect/auth/facebook/start?ticket=x":     "https://ex.com/igconnect",
		"http://127.0.0.1:8082/auth/instagram/start?ticket=abc.def": "http://127.0.0.1:8082",
		"":                     "",
		"not a url":            "",
		"https://ex.com/other": "",
	}
	for in, want := range cases {
		if got := callbackBase(in); got != want {
			t.Errorf("callbackBase(%q) = %q, want %q", in, got, want)
		}
	}
}
