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
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

func newLoginURLCommand(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "login-url NAME",
		Short: "Print the URL where a person logs in to authorize a connection, or why there is none",
		Example: `  kubectl igconnect login-url acme -n marketing
  open "$(kubectl igconnect login-url acme -n marketing)"`,
		Args: exactlyOneName("login-url"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := env.client()
			if err != nil {
				return err
			}
			ns, err := env.namespace()
			if err != nil {
				return err
			}
			u, err := getConnection(cmd, c, ns, args[0])
			if err != nil {
				return err
			}
			s, err := Summarize(u, env.now())
			if err != nil {
				return err
			}
			if s.AuthorizationURL == "" {
				return errors.New(NoLoginURLReason(s))
			}
			_, err = fmt.Fprintln(env.Streams.Out, s.AuthorizationURL)
			return err
		},
	}
}

// NoLoginURLReason says why a connection without status.authorizationURL has none.
func NoLoginURLReason(s ConnectionStatus) string {
	id := s.Namespace + "/" + s.Name
	r := s.Ready
	switch {
	case r.Reason == "":
		return fmt.Sprintf("%s has no login URL yet: the operator has not reconciled it "+
			"(is the manager running? kubectl igconnect check tells)", id)
	case r.Status == string(metav1.ConditionTrue):
		return fmt.Sprintf("%s needs no login: it is Ready (%s) as @%s; a login URL appears when a person must "+
			"log in again", id, r.Reason, s.Account.Username)
	case strings.Contains(r.Message, "--public-url"):
		return fmt.Sprintf("%s has no login URL: the operator runs without --public-url (no callback server "+
			"configured), so it cannot offer one; %s: %s", id, r.Reason, r.Message)
	case r.Reason == igv1.ReasonAppCredentialsMissing:
		return fmt.Sprintf("%s has no login URL: no app credentials for it (%s: %s)", id, r.Reason, r.Message)
	default:
		return fmt.Sprintf("%s has no login URL: Ready is %s (%s: %s)", id, r.Status, r.Reason, r.Message)
	}
}

// exactlyOneName accepts one argument, the connection's name, and says so otherwise.
func exactlyOneName(command string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		switch len(args) {
		case 1:
			return nil
		case 0:
			return fmt.Errorf("%s needs the connection's name: kubectl igconnect %s NAME", command, command)
		default:
			// The extra arguments are not repeated: one of them may be a token.
			return fmt.Errorf("%s takes one argument, the connection's name, and got %d", command, len(args))
		}
	}
}
