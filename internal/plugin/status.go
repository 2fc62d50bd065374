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
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

type statusOptions struct {
	allNamespaces bool
	output        string
}

func newStatusCommand(env *Env) *cobra.Command {
	o := &statusOptions{}
	cmd := &cobra.Command{
		Use:   "status [NAME]",
		Short: "Show connections in human terms: account, Ready, expiry, next refresh, last failure",
		Example: `  kubectl igconnect status -n marketing
  kubectl igconnect status acme -n marketing
  kubectl igconnect status -A -o json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch o.output {
			case "", "json", "yaml":
			default:
				return fmt.Errorf("unknown output format %q: use -o json or -o yaml, or leave -o out for a table", o.output)
			}
			if len(args) == 1 && o.allNamespaces {
				return fmt.Errorf("a connection's name and --all-namespaces cannot be used together")
			}
			list, err := env.statusList(cmd, args, o.allNamespaces)
			if err != nil {
				return err
			}
			return printStatus(env.Streams.Out, list, o, len(args) == 1)
		},
	}
	cmd.Flags().BoolVarP(&o.allNamespaces, "all-namespaces", "A", false, "show the connections of every namespace")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "output format: json or yaml (a table when absent)")
	return cmd
}

// connectionGVK is the kind the plugin reads as unstructured, to see fields (spec.login)
// its copy of the API types may not have yet.
var connectionGVK = igv1.GroupVersion.WithKind("InstagramConnection")

// statusList reads one connection (args[0]) or the connections of a namespace or of all.
func (e *Env) statusList(cmd *cobra.Command, args []string, all bool) (StatusList, error) {
	c, err := e.client()
	if err != nil {
		return StatusList{}, err
	}
	ns, err := e.namespace()
	if err != nil {
		return StatusList{}, err
	}
	var items []unstructured.Unstructured
	if len(args) == 1 {
		u, err := getConnection(cmd, c, ns, args[0])
		if err != nil {
			return StatusList{}, err
		}
		items = append(items, *u)
	} else {
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(connectionGVK.GroupVersion().WithKind("InstagramConnectionList"))
		var opts []client.ListOption
		if !all {
			opts = append(opts, client.InNamespace(ns))
		}
		if err := c.List(cmd.Context(), list, opts...); err != nil {
			return StatusList{}, explainAPIError(err, "list InstagramConnections")
		}
		items = list.Items
	}
	now := e.now()
	out := StatusList{Connections: make([]ConnectionStatus, 0, len(items))}
	for i := range items {
		s, err := Summarize(&items[i], now)
		if err != nil {
			return StatusList{}, fmt.Errorf("read %s/%s: %w", items[i].GetNamespace(), items[i].GetName(), err)
		}
		out.Connections = append(out.Connections, s)
	}
	sort.Slice(out.Connections, func(i, j int) bool {
		a, b := out.Connections[i], out.Connections[j]
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Name < b.Name
	})
	return out, nil
}

// getConnection reads one connection as unstructured, with an error that says what to do
// when it does not exist.
func getConnection(cmd *cobra.Command, c client.Client, ns, name string) (*unstructured.Unstructured, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(connectionGVK)
	if err := c.Get(cmd.Context(), types.NamespacedName{Namespace: ns, Name: name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("no InstagramConnection %q in namespace %q (kubectl igconnect status -A lists them all)", name, ns)
		}
		return nil, explainAPIError(err, fmt.Sprintf("read InstagramConnection %s/%s", ns, name))
	}
	return u, nil
}

// explainAPIError adds what to check to the API errors a person can act on.
func explainAPIError(err error, doing string) error {
	switch {
	case apierrors.IsNotFound(err) || strings.Contains(err.Error(), "no matches for kind"):
		return fmt.Errorf("%s: %w (is the igconnect CRD installed? kubectl igconnect check tells)", doing, err)
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s: %w (your user lacks the permission)", doing, err)
	default:
		return fmt.Errorf("%s: %w", doing, err)
	}
}

func printStatus(w io.Writer, list StatusList, o *statusOptions, one bool) error {
	switch o.output {
	case "json":
		b, err := json.MarshalIndent(list, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(w, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(list)
		if err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	}
	if one {
		return printDetails(w, list.Connections[0])
	}
	if len(list.Connections) == 0 {
		_, err := fmt.Fprintln(w, "No InstagramConnections found.")
		return err
	}
	return printTable(w, list.Connections, o.allNamespaces)
}

// printTable prints one line per connection, kubectl get style.
func printTable(w io.Writer, conns []ConnectionStatus, withNamespace bool) error {
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	header := []string{"NAME", "ACCOUNT", "LOGIN", "READY", "REASON", "TOKEN", "NEXT", "LAST FAILURE", "WEBHOOK"}
	if withNamespace {
		header = append([]string{"NAMESPACE"}, header...)
	}
	out := &output{w: tw}
	out.printf("%s\n", strings.Join(header, "\t"))
	for _, c := range conns {
		row := []string{c.Name, orDash(c.Account.Username), c.Login, c.Ready.Status, orDash(c.Ready.Reason),
			tokenCell(c.Token), nextCell(c.Next), failureCell(c.LastFailure), webhookCell(c.Webhook)}
		if withNamespace {
			row = append([]string{c.Namespace}, row...)
		}
		out.printf("%s\n", strings.Join(row, "\t"))
	}
	if out.err != nil {
		return out.err
	}
	return tw.Flush()
}

// printDetails prints one connection, kubectl describe style, with the conditions' messages.
func printDetails(w io.Writer, c ConnectionStatus) error {
	tw := tabwriter.NewWriter(w, 0, 8, 1, ' ', 0)
	account := noValue
	if c.Account.Username != "" || c.Account.UserID != "" {
		account = fmt.Sprintf("@%s (%s", c.Account.Username, c.Account.UserID)
		if c.Account.AccountType != "" {
			account += ", " + c.Account.AccountType
		}
		account += ")"
	}
	ready := c.Ready.Status
	if c.Ready.Reason != "" {
		ready += " " + c.Ready.Reason
	}
	if c.Ready.Message != "" {
		ready += ": " + c.Ready.Message
	}
	token := c.Token.Expiry
	switch {
	case c.Token.ExpiresAt != nil && c.Token.Estimated:
		token += " (" + c.Token.ExpiresAt.Format(time.RFC3339) + ", estimated)"
	case c.Token.ExpiresAt != nil:
		token += " (" + c.Token.ExpiresAt.Format(time.RFC3339) + ")"
	}
	next := nextCell(c.Next)
	if c.Next != nil {
		next += " (" + c.Next.At.Format(time.RFC3339) + ")"
	}
	failure := noValue
	if f := c.LastFailure; f != nil {
		failure = failureCell(f)
		if f.Message != "" {
			failure += ": " + f.Message
		}
	}
	lines := [][2]string{
		{"Connection:", c.Namespace + "/" + c.Name},
		{"Account:", account},
		{"Login:", c.Login},
		{"Ready:", ready},
		{"Token:", token},
		{"Next:", next},
		{"Last failure:", failure},
		{"Webhook:", webhookCell(c.Webhook)},
	}
	if c.AuthorizationURL != "" {
		lines = append(lines, [2]string{"Login URL:", c.AuthorizationURL})
	}
	out := &output{w: tw}
	for _, l := range lines {
		out.printf("%s\t%s\n", l[0], l[1])
	}
	if out.err != nil {
		return out.err
	}
	return tw.Flush()
}

func tokenCell(t TokenSummary) string {
	if t.Estimated {
		return t.Expiry + " (estimated)"
	}
	return t.Expiry
}

func nextCell(n *NextAction) string {
	if n == nil {
		return noValue
	}
	return n.Action + " " + n.In
}

func failureCell(f *Failure) string {
	if f == nil {
		return noValue
	}
	reason := f.Reason
	if reason == "" {
		reason = "failed"
	}
	if f.FailedAttempts == 1 {
		return reason + " (1 attempt)"
	}
	if f.FailedAttempts > 1 {
		return fmt.Sprintf("%s (%d attempts)", reason, f.FailedAttempts)
	}
	return reason
}

// webhookCell shows the webhook state, "-" until the API has a webhook field.
func webhookCell(w *string) string {
	if w == nil {
		return noValue
	}
	return *w
}

func orDash(s string) string {
	if s == "" {
		return noValue
	}
	return s
}
