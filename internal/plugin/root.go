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

// Package plugin holds the commands of kubectl-igconnect, the kubectl plugin for igconnect:
// status, login-url, refresh, import and check. Each command is a cobra.Command built over a
// shared Env (kubectl's connection flags, the output streams and a clock), so that tests run
// them in-process against a real API server with an injected clock.
package plugin

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// Env is what every command shares: kubectl's flags (--kubeconfig, --context, -n, ...), the
// streams it writes to and the clock it reads.
type Env struct {
	// Flags are kubectl's connection flags, from cli-runtime.
	Flags *genericclioptions.ConfigFlags
	// Streams are where output and errors go.
	Streams genericiooptions.IOStreams
	// Clock is the time "expires in 39 days" is measured from.
	Clock clock.PassiveClock
	// PollInterval is how often --wait reads the connection again.
	PollInterval time.Duration
}

// NewEnv returns an Env with kubectl's flags, the given streams and the real clock.
func NewEnv(streams genericiooptions.IOStreams) *Env {
	flags := genericclioptions.NewConfigFlags(true)
	// kubectl's --token (a bearer token for the API server) is left out: `import --token
	// IGAA...` would otherwise send an Instagram token to the API server as a credential.
	// import refuses --token with a message instead; API credentials come from the kubeconfig.
	flags.BearerToken = nil
	return &Env{
		Flags:        flags,
		Streams:      streams,
		Clock:        clock.RealClock{},
		PollInterval: 250 * time.Millisecond,
	}
}

// NewRootCommand returns `kubectl igconnect` with its subcommands.
func NewRootCommand(env *Env) *cobra.Command {
	root := &cobra.Command{
		Use:   "kubectl-igconnect",
		Short: "Inspect and operate igconnect's Instagram connections",
		Long: "kubectl igconnect shows the state of InstagramConnections in human terms (when the token " +
			"expires, when it is refreshed next, what failed), prints login URLs, asks for refreshes, " +
			"imports tokens without echoing them and checks an installation.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Annotations: map[string]string{
			// Shown by `kubectl igconnect --help` as `kubectl igconnect`, as krew plugins do.
			cobra.CommandDisplayNameAnnotation: "kubectl igconnect",
		},
	}
	root.SetOut(env.Streams.Out)
	root.SetErr(env.Streams.ErrOut)
	env.Flags.AddFlags(root.PersistentFlags())
	root.AddCommand(
		newStatusCommand(env),
		newLoginURLCommand(env),
		newRefreshCommand(env),
		newImportCommand(env),
		newCheckCommand(env),
	)
	return root
}

// scheme holds the types the plugin reads and writes.
var scheme = func() *runtime.Scheme {
	s := runtime.NewScheme()
	if err := clientgoscheme.AddToScheme(s); err != nil {
		panic(err)
	}
	if err := igv1.AddToScheme(s); err != nil {
		panic(err)
	}
	return s
}()

// restConfig returns the REST config kubectl's flags describe.
func (e *Env) restConfig() (*rest.Config, error) {
	cfg, err := e.Flags.ToRESTConfig()
	if err != nil {
		return nil, fmt.Errorf("load kubeconfig: %w", err)
	}
	return cfg, nil
}

// client returns an uncached client for the cluster kubectl's flags describe.
func (e *Env) client() (client.Client, error) {
	cfg, err := e.restConfig()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, fmt.Errorf("connect to the cluster: %w", err)
	}
	return c, nil
}

// namespace returns -n, or the kubeconfig context's namespace, or default.
func (e *Env) namespace() (string, error) {
	ns, _, err := e.Flags.ToRawKubeConfigLoader().Namespace()
	if err != nil {
		return "", fmt.Errorf("find the namespace: %w", err)
	}
	return ns, nil
}

// now reads the injected clock.
func (e *Env) now() time.Time { return e.Clock.Now() }

// Execute runs the root command with the process's arguments and returns its error.
func Execute(ctx context.Context, env *Env, args []string) error {
	root := NewRootCommand(env)
	root.SetArgs(args)
	return root.ExecuteContext(ctx)
}
