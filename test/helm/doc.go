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

// Package helm tests the Helm chart charts/igconnect: it renders the chart with the Helm SDK
// (the engine `helm template` and `helm install` use) for the default values and for each
// ci/*-values.yaml, applies every rendering with a server-side dry run to a local control
// plane, runs test/deploy's Pod Security and RBAC checks on it (package deploycheck), proves
// the default rendering equivalent to config/default, and proves bad values refused by the
// chart's schema with a message that names the value.
package helm
