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

package gitops

import (
	"os"
	"slices"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

const argoHealthScript = "../../docs/gitops/argocd-health.lua"

// argoHealthStatuses are the health statuses Argo CD accepts from a script.
var argoHealthStatuses = []string{"Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"}

// argoHealth runs a health script the way Argo CD does: gopher-lua (Lua 5.1) with only the
// package, base and table libraries opened (no string or io: a script that calls them fails
// in Argo CD; Argo CD's "safe" os subset is left out too, as the script needs no clock), the object as the global obj, and the returned table's status and
// message as the health. An object being deleted never reaches the script: Argo CD calls it
// Progressing, "Pending deletion", first.
func argoHealth(t *testing.T, script string, obj map[string]any) (healthStatus, message string) {
	t.Helper()
	if meta, _ := obj["metadata"].(map[string]any); meta["deletionTimestamp"] != nil {
		return argoProgressing, "Pending deletion"
	}
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{{lua.LoadLibName, lua.OpenPackage}, {lua.BaseLibName, lua.OpenBase}, {lua.TabLibName, lua.OpenTable}} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	L.SetGlobal("obj", luaValue(L, obj))
	if err := L.DoString(script); err != nil {
		t.Fatalf("the health script failed: %v", err)
	}
	ret, ok := L.Get(-1).(*lua.LTable)
	if !ok {
		t.Fatalf("the health script returned %s, want a table", L.Get(-1).Type())
	}
	return lua.LVAsString(ret.RawGetString("status")), lua.LVAsString(ret.RawGetString("message"))
}

// luaValue converts an unstructured object to Lua values as Argo CD does: maps to tables
// with string keys, lists to 1-based arrays, numbers to Lua numbers.
func luaValue(L *lua.LState, v any) lua.LValue {
	switch v := v.(type) {
	case map[string]any:
		tbl := L.CreateTable(0, len(v))
		for k, item := range v {
			tbl.RawSetString(k, luaValue(L, item))
		}
		return tbl
	case []any:
		arr := L.CreateTable(len(v), 0)
		for _, item := range v {
			arr.Append(luaValue(L, item))
		}
		return arr
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	}
	return lua.LNil
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestArgoCDHealthOfConnections runs docs/gitops/argocd-health.lua on every connection state.
func TestArgoCDHealthOfConnections(t *testing.T) {
	script := readFile(t, argoHealthScript)
	for _, tt := range states() {
		t.Run(tt.name, func(t *testing.T) {
			got, msg := argoHealth(t, script, unstructuredOf(t, tt.conn))
			if !slices.Contains(argoHealthStatuses, got) {
				t.Fatalf("health status %q is none Argo CD knows (%v)", got, argoHealthStatuses)
			}
			if got != tt.argo {
				t.Errorf("Argo CD health = %s (%q), want %s", got, msg, tt.argo)
			}
			if !strings.Contains(msg, tt.argoMessage) {
				t.Errorf("Argo CD message %q does not contain %q", msg, tt.argoMessage)
			}
			t.Logf("Argo CD %s: %s", got, msg)
		})
	}
}

// TestArgoCDHealthCasesFile runs docs/gitops/argocd-health-cases.lua, the cases a reader can
// run with a stock lua5.1, under gopher-lua too, so the file stays correct. Its os.exit is
// replaced by an error.
func TestArgoCDHealthCasesFile(t *testing.T) {
	const cases = "../../docs/gitops/argocd-health-cases.lua"
	L := lua.NewState()
	defer L.Close()
	arg := L.NewTable()
	arg.RawSetInt(0, lua.LString(cases))
	L.SetGlobal("arg", arg)
	var out strings.Builder
	L.SetGlobal("print", L.NewFunction(func(L *lua.LState) int {
		for i := 1; i <= L.GetTop(); i++ {
			out.WriteString(L.ToStringMeta(L.Get(i)).String())
		}
		out.WriteString("\n")
		return 0
	}))
	osLib, _ := L.GetGlobal("os").(*lua.LTable)
	osLib.RawSetString("exit", L.NewFunction(func(L *lua.LState) int {
		L.RaiseError("os.exit(%d)", L.OptInt(1, 0))
		return 0
	}))
	err := L.DoFile(cases)
	t.Log(out.String())
	if err != nil {
		t.Fatalf("%s: %v", cases, err)
	}
	if !strings.Contains(out.String(), " passed, 0 failed") {
		t.Errorf("%s did not report all cases passed", cases)
	}
}
