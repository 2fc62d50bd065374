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

// Package deploy holds the tests of the deployment manifests in config/: they render
// config/default and config/samples with kustomize, as `make deploy` does, and apply every
// object with a server-side dry run to a local control plane (envtest), checking what the
// API server accepts, the restricted Pod Security Standard and the least-privilege RBAC.
package deploy
