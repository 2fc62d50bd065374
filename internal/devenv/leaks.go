package devenv

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	igv1 "github.com/igconnect/igconnect/api/v1alpha1"
	"github.com/igconnect/igconnect/internal/sandbox"
)

// minSecretLen is the shortest value a LeakScanner looks for: shorter ones would match by
// coincidence. Sandbox tokens and codes are 66 characters, app secrets over 15.
const minSecretLen = 8

// Leak is one secret found in a text. It never carries the secret itself, only enough of
// it to tell which one it was.
type Leak struct {
	// Source names the text: a log file, "event ns/name", "connection ns/name", ...
	Source string
	// Line is the 1-based line of the text where the secret was found.
	Line int
	// Kind is what the secret is: "token", "code", "app secret", or a caller's label.
	Kind string
	// Encoding is how it appeared: "raw", "url-escaped" or "base64".
	Encoding string
	// Hint is the secret's first four characters and its length, e.g. "IGAA…(68 chars)".
	Hint string
}

// String describes the leak without the secret.
func (l Leak) String() string {
	return fmt.Sprintf("%s line %d: %s %s (%s)", l.Source, l.Line, l.Kind, l.Hint, l.Encoding)
}

// needle is one form of one secret to look for.
type needle struct {
	text, kind, encoding, hint string
}

// LeakScanner looks for secret values in texts: raw, URL-escaped, and base64-encoded (at
// every alignment, standard and URL alphabets), since a Secret's data reaches JSON as
// base64. The zero value scans for nothing; add values with Add or AddIssued.
type LeakScanner struct {
	needles []needle
	seen    map[string]bool
	// Scanned counts the texts scanned and Bytes their total size, for reports.
	Scanned, Bytes int
	// Values counts the distinct secrets added.
	Values int
}

// NewLeakScanner returns a scanner for the sandbox's issued secrets.
func NewLeakScanner(issued sandbox.IssuedSecrets) *LeakScanner {
	s := &LeakScanner{}
	s.AddIssued(issued)
	return s
}

// AddIssued adds the sandbox's tokens, codes and app secrets.
func (s *LeakScanner) AddIssued(issued sandbox.IssuedSecrets) {
	s.Add("token", issued.Tokens...)
	s.Add("code", issued.Codes...)
	s.Add("app secret", issued.AppSecrets...)
}

// Add adds secret values of a kind. Values shorter than 8 characters are ignored.
func (s *LeakScanner) Add(kind string, values ...string) {
	if s.seen == nil {
		s.seen = map[string]bool{}
	}
	for _, v := range values {
		if len(v) < minSecretLen || s.seen[v] {
			continue
		}
		s.seen[v] = true
		s.Values++
		hint := fmt.Sprintf("%s…(%d chars)", v[:4], len(v))
		forms := map[string]string{v: "raw"}
		if esc := url.QueryEscape(v); esc != v {
			forms[esc] = "url-escaped"
		}
		// Base64 of a text that contains v contains the encoding of v[k:] cut to whole
		// 3-byte groups, for the k in 0..2 that puts v[k] at a group's start.
		for k := 0; k < 3; k++ {
			part := v[k:]
			part = part[:len(part)/3*3]
			for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding} {
				if e := enc.EncodeToString([]byte(part)); len(e) >= minSecretLen {
					forms[e] = "base64"
				}
			}
		}
		for text, encoding := range forms {
			s.needles = append(s.needles, needle{text: text, kind: kind, encoding: encoding, hint: hint})
		}
	}
}

// Scan returns every secret found in text, which source names in the reports.
func (s *LeakScanner) Scan(source, text string) []Leak {
	s.Scanned++
	s.Bytes += len(text)
	var out []Leak
	reported := map[string]bool{}
	for _, n := range s.needles {
		i := strings.Index(text, n.text)
		if i < 0 || reported[n.hint+n.encoding] {
			continue
		}
		reported[n.hint+n.encoding] = true
		out = append(out, Leak{Source: source, Line: 1 + strings.Count(text[:i], "\n"), Kind: n.kind,
			Encoding: n.encoding, Hint: n.hint})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out
}

// ScanAll scans every text of texts (keyed by source) and returns the leaks in source order.
func (s *LeakScanner) ScanAll(texts map[string]string) []Leak {
	sources := make([]string, 0, len(texts))
	for src := range texts {
		sources = append(sources, src)
	}
	sort.Strings(sources)
	out := make([]Leak, 0, len(sources))
	for _, src := range sources {
		out = append(out, s.Scan(src, texts[src])...)
	}
	return out
}

// ClusterTexts returns, as JSON keyed by source, what the operator writes to the cluster
// for people to read: every InstagramConnection (spec, annotations and status) and every
// event, of both event APIs, in all namespaces. A leak scan runs over them; Secrets are
// left out, being the one place tokens belong.
func ClusterTexts(ctx context.Context, c client.Reader) (map[string]string, error) {
	out := map[string]string{}
	add := func(prefix string, list client.ObjectList, items func() []client.Object) error {
		if err := c.List(ctx, list); err != nil {
			return fmt.Errorf("devenv: list %s: %w", prefix, err)
		}
		for _, o := range items() {
			b, err := json.Marshal(o)
			if err != nil {
				return err
			}
			out[prefix+" "+o.GetNamespace()+"/"+o.GetName()] = string(b)
		}
		return nil
	}
	conns := &igv1.InstagramConnectionList{}
	if err := add("connection", conns, func() []client.Object { return objects(conns.Items) }); err != nil {
		return nil, err
	}
	events := &eventsv1.EventList{}
	if err := add("event", events, func() []client.Object { return objects(events.Items) }); err != nil {
		return nil, err
	}
	coreEvents := &corev1.EventList{}
	if err := add("core event", coreEvents, func() []client.Object { return objects(coreEvents.Items) }); err != nil {
		return nil, err
	}
	return out, nil
}

// objects returns pointers to items as client.Objects.
func objects[T any, PT interface {
	*T
	client.Object
}](items []T) []client.Object {
	out := make([]client.Object, len(items))
	for i := range items {
		out[i] = PT(&items[i])
	}
	return out
}
