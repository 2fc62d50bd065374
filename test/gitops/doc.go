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

// Package gitops holds the tests of how GitOps tools see an InstagramConnection, for every
// state the reconciler writes (states_test.go): the status kstatus computes (Flux without
// healthCheckExprs, `kubectl wait`-style tooling, cli-utils appliers), the health Argo CD's
// Lua script of docs/gitops gives in gopher-lua, and the status Flux's CEL healthCheckExprs
// of docs/gitops.md give in cel-go.
package gitops
