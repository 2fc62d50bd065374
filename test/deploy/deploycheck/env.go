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

package deploycheck

import (
	"context"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// FieldOwner is the field manager of the tests' applies.
const FieldOwner = client.FieldOwner("igconnect-deploy-test")

// Env is a started local control plane and a client that keeps the API server's warnings.
type Env struct {
	*envtest.Environment
	Client   client.Client
	Warnings *WarningRecorder
}

// StartEnv starts envtest with the CRDs of crdDirs installed, and a client with the core
// and igconnect types.
func StartEnv(crdDirs ...string) (*Env, error) {
	env := &Env{
		Environment: &envtest.Environment{CRDDirectoryPaths: crdDirs, ErrorIfCRDPathMissing: true},
		Warnings:    &WarningRecorder{},
	}
	cfg, err := env.Start()
	if err != nil {
		return nil, err
	}
	// Keep the API server's warnings: PodSecurity admission answers a workload that would
	// violate the namespace's policy with a warning, not a refusal.
	cfg.WarningHandlerWithContext = env.Warnings
	scheme := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(scheme); err != nil {
		return nil, err
	}
	if err := igv1.AddToScheme(scheme); err != nil {
		return nil, err
	}
	env.Client, err = client.New(cfg, client.Options{Scheme: scheme})
	return env, err
}

// WarningRecorder keeps the warnings the API server sends (the Warning response header).
type WarningRecorder struct {
	mu   sync.Mutex
	seen []string
}

// HandleWarningHeaderWithContext records one warning.
func (w *WarningRecorder) HandleWarningHeaderWithContext(_ context.Context, _ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen = append(w.seen, text)
}

// Take returns the warnings recorded since the last call and forgets them.
func (w *WarningRecorder) Take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.seen
	w.seen = nil
	return out
}

// PodSecurityWarnings returns those of warnings that PodSecurity admission sent.
func PodSecurityWarnings(warnings []string) []string {
	var out []string
	for _, w := range warnings {
		if strings.Contains(w, "PodSecurity") {
			out = append(out, w)
		}
	}
	return out
}
