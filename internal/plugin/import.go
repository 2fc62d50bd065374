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
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"
	"unicode"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
)

// maxTokenFileSize bounds what --token-file reads: a token is a few hundred bytes.
const maxTokenFileSize = 16 << 10

// refusedTokenFlags are flags a person might try to pass the token with. They exist only to
// be refused with a clear message: a token on the command line stays in the shell's history
// and is visible to every user of the machine in the process list.
var refusedTokenFlags = []string{"token", "access-token"}

type importOptions struct {
	tokenFile string
	expiresAt string
	secret    string
	appSecret string
	wait      bool
	timeout   time.Duration
	refused   map[string]*string
}

func newImportCommand(env *Env) *cobra.Command {
	o := &importOptions{refused: map[string]*string{}}
	cmd := &cobra.Command{
		Use:   "import NAME --token-file FILE|-",
		Short: "Import an access token you already have: create its Secret and the connection",
		Long: "import creates the Secret (only access_token, and expires_at when --expires-at is given) and an " +
			"InstagramConnection naming it, the \"access token method\"; the operator validates the token, fills " +
			"in the rest and manages it from then on. The token is read from a file or standard input, never " +
			"from the command line, and never printed. Nothing is created when an input is wrong or the " +
			"connection or Secret already exists.",
		Example: `  kubectl igconnect import brand -n marketing --token-file token.txt
  pbpaste | kubectl igconnect import brand -n marketing --token-file - --expires-at 2027-01-30T10:00:00Z`,
		Args: exactlyOneName("import"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return env.importToken(cmd.Context(), args[0], o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.tokenFile, "token-file", "", "file holding the access token; - reads standard input")
	f.StringVar(&o.expiresAt, "expires-at", "", "the token's expiry, RFC 3339 (e.g. 2027-01-30T10:00:00Z), if you know it")
	f.StringVar(&o.secret, "secret", "", "name of the Secret to create (default NAME-instagram-token)")
	f.StringVar(&o.appSecret, "app-secret", "", "a Secret in the namespace with client-id and client-secret, for spec.appSecretRef")
	f.BoolVar(&o.wait, "wait", true, "wait until the connection is Ready")
	f.DurationVar(&o.timeout, "timeout", 2*time.Minute, "how long --wait waits")
	for _, name := range refusedTokenFlags {
		v := new(string)
		o.refused[name] = v
		f.StringVar(v, name, "", "refused: use --token-file")
		_ = f.MarkHidden(name)
	}
	return cmd
}

// importRequest is a validated import: everything needed to create the objects.
type importRequest struct {
	namespace, name, secretName, appSecret string
	token                                  []byte
	expiresAt                              *time.Time
}

func (e *Env) importToken(ctx context.Context, name string, o *importOptions) error {
	req, err := e.validateImport(name, o)
	if err != nil {
		return err
	}
	c, err := e.client()
	if err != nil {
		return err
	}
	secret, conn := importObjects(req)
	if err := createImported(ctx, c, secret, conn); err != nil {
		return err
	}
	out := &output{w: e.Streams.Out}
	keys := igv1.SecretKeyAccessToken
	if req.expiresAt != nil {
		keys += ", " + igv1.SecretKeyExpiresAt
	}
	out.printf("secret/%s created (%s)\n", secret.Name, keys)
	out.printf("instagramconnection/%s created\n", conn.Name)
	if !o.wait || out.err != nil {
		return out.err
	}
	return e.waitImported(ctx, c, conn, o.timeout)
}

// validateImport checks every input before anything is created, and reads the token.
func (e *Env) validateImport(name string, o *importOptions) (importRequest, error) {
	for _, flag := range refusedTokenFlags {
		if *o.refused[flag] != "" {
			return importRequest{}, fmt.Errorf("refusing a token on the command line (--%s): it would stay in your shell "+
				"history and show in the process list; put it in a file and pass --token-file FILE, or pipe it in "+
				"with --token-file -", flag)
		}
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return importRequest{}, fmt.Errorf("%q is not a valid connection name: %s", name, errs[0])
	}
	req := importRequest{name: name, secretName: o.secret, appSecret: o.appSecret}
	if req.secretName == "" {
		req.secretName = name + "-instagram-token"
	}
	if errs := validation.IsDNS1123Subdomain(req.secretName); len(errs) > 0 {
		return importRequest{}, fmt.Errorf("--secret %q is not a valid Secret name: %s", req.secretName, errs[0])
	}
	if o.expiresAt != "" {
		t, err := time.Parse(time.RFC3339, o.expiresAt)
		if err != nil {
			return importRequest{}, fmt.Errorf("--expires-at %q is not an RFC 3339 time such as 2027-01-30T10:00:00Z", o.expiresAt)
		}
		if !t.After(e.now()) {
			return importRequest{}, fmt.Errorf("--expires-at %s is in the past: that token has expired; get a new one", o.expiresAt)
		}
		t = t.UTC()
		req.expiresAt = &t
	}
	token, err := readToken(o.tokenFile, e.Streams.In)
	if err != nil {
		return importRequest{}, err
	}
	req.token = token
	ns, err := e.namespace()
	if err != nil {
		return importRequest{}, err
	}
	req.namespace = ns
	return req, nil
}

// readToken reads the token from a file or standard input ("-"), trimmed. The errors never
// contain the file's content.
func readToken(path string, stdin io.Reader) ([]byte, error) {
	var (
		r    io.Reader
		what string
	)
	switch path {
	case "":
		return nil, errors.New("import needs the token: --token-file FILE, or --token-file - to read it from standard input")
	case "-":
		if stdin == nil {
			return nil, errors.New("--token-file -: no standard input")
		}
		r, what = stdin, "standard input"
	default:
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read --token-file: %w", err)
		}
		defer func() { _ = f.Close() }()
		r, what = f, path
	}
	b, err := io.ReadAll(io.LimitReader(r, maxTokenFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read the token from %s: %w", what, err)
	}
	if len(b) > maxTokenFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes: that is not an access token", what, maxTokenFileSize)
	}
	token := bytes.TrimSpace(b)
	switch {
	case len(token) == 0:
		return nil, fmt.Errorf("%s is empty: it must hold the access token", what)
	case bytes.ContainsFunc(token, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }):
		return nil, fmt.Errorf("%s holds more than one word: it must hold only the access token, on one line", what)
	}
	return token, nil
}

// importObjects returns the Secret and the connection an import creates.
func importObjects(req importRequest) (*corev1.Secret, *igv1.InstagramConnection) {
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: req.namespace, Name: req.secretName},
		Type:       corev1.SecretTypeOpaque,
		Data:       map[string][]byte{igv1.SecretKeyAccessToken: req.token},
	}
	if req.expiresAt != nil {
		secret.Data[igv1.SecretKeyExpiresAt] = []byte(req.expiresAt.Format(time.RFC3339))
	}
	conn := &igv1.InstagramConnection{
		ObjectMeta: metav1.ObjectMeta{Namespace: req.namespace, Name: req.name},
		Spec:       igv1.InstagramConnectionSpec{SecretName: req.secretName},
	}
	if req.appSecret != "" {
		conn.Spec.AppSecretRef = &igv1.SecretReference{Name: req.appSecret}
	}
	return secret, conn
}

// createImported creates the Secret and then the connection, all or nothing: the connection
// is tried as a dry run first (existence, validation, permission), and the Secret is deleted
// again should the connection's creation still fail.
func createImported(ctx context.Context, c client.Client, secret *corev1.Secret, conn *igv1.InstagramConnection) error {
	id := conn.Namespace + "/" + conn.Name
	if err := c.Create(ctx, conn.DeepCopy(), client.DryRunAll); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("InstagramConnection %s already exists: import creates a new one "+
				"(to replace its token, edit its Secret %s)", id, conn.Spec.SecretName)
		}
		return explainAPIError(err, "create InstagramConnection "+id)
	}
	if err := c.Create(ctx, secret); err != nil {
		if apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("the Secret %s/%s already exists: choose another with --secret, or delete it first", secret.Namespace, secret.Name)
		}
		return explainAPIError(err, fmt.Sprintf("create Secret %s/%s", secret.Namespace, secret.Name))
	}
	if err := c.Create(ctx, conn); err != nil {
		cleanup := c.Delete(context.WithoutCancel(ctx), secret, client.Preconditions{UID: &secret.UID})
		if cleanup != nil && !apierrors.IsNotFound(cleanup) {
			return fmt.Errorf("create InstagramConnection %s: %w; and the Secret %s it would use could not be deleted "+
				"again: %v", id, err, secret.Name, cleanup)
		}
		return explainAPIError(err, "create InstagramConnection "+id)
	}
	return nil
}

// waitImported waits until the operator has judged the imported token: Ready True, or a
// Ready=False reason that needs a person.
func (e *Env) waitImported(ctx context.Context, c client.Client, created *igv1.InstagramConnection, timeout time.Duration) error {
	out := &output{w: e.Streams.Out}
	out.printf("waiting for the operator to validate the token (up to %s)...\n", timeout)
	var last *igv1.InstagramConnection
	pollCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	err := wait.PollUntilContextCancel(pollCtx, e.PollInterval, true, func(ctx context.Context) (bool, error) {
		conn, err := getTypedConnection(ctx, c, created.Namespace, created.Name)
		if err != nil {
			return false, err
		}
		last = conn
		ready := meta.FindStatusCondition(conn.Status.Conditions, igv1.ConditionReady)
		return ready != nil && ready.ObservedGeneration >= conn.Generation &&
			(ready.Status == metav1.ConditionTrue || stalled(conn)), nil
	})
	if err != nil {
		if wait.Interrupted(err) || errors.Is(err, context.DeadlineExceeded) {
			msg := "the operator has not reconciled it (is the manager running? kubectl igconnect check tells)"
			if last != nil {
				if r := meta.FindStatusCondition(last.Status.Conditions, igv1.ConditionReady); r != nil {
					msg = fmt.Sprintf("Ready is %s (%s): %s", r.Status, r.Reason, r.Message)
				}
			}
			return fmt.Errorf("not Ready within %s: %s", timeout, msg)
		}
		return err
	}
	s := summarizeTyped(last, LoginInstagram, e.now())
	if s.Ready.Status != string(metav1.ConditionTrue) {
		return fmt.Errorf("the token was not accepted: %s: %s", s.Ready.Reason, s.Ready.Message)
	}
	out.printf("connected: @%s (%s), token %s\n", s.Account.Username, s.Account.UserID, tokenCell(s.Token))
	return out.err
}

// stalled reports whether the connection needs a person (the operator's Stalled condition).
func stalled(conn *igv1.InstagramConnection) bool {
	return meta.IsStatusConditionTrue(conn.Status.Conditions, igv1.ConditionStalled)
}
