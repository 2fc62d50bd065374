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

// Package deploycheck holds the checks that every way of installing igconnect must pass,
// shared by test/deploy (config/, kustomize) and test/helm (charts/igconnect): rendered
// objects accepted by a server-side dry run, the manager's pod within the restricted Pod
// Security Standard (and PodSecurity admission refusing a pod that breaks it), and the
// manager's RBAC at least privilege, as written and as the API server's authorizer decides.
package deploycheck
