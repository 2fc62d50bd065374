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

package main

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/controller-runtime/pkg/cache"
)

// parseWatchNamespaces reads --watch-namespaces: a comma-separated list of namespace names,
// each a DNS-1123 label, none twice. Spaces around a name are ignored; an empty value means
// every namespace (nil). It returns every problem at once, each naming the offending entry.
func parseWatchNamespaces(value string) ([]string, []string) {
	if strings.TrimSpace(value) == "" {
		return nil, nil
	}
	entries := strings.Split(value, ",")
	names := make([]string, 0, len(entries))
	var problems []string
	for i, raw := range entries {
		ns := strings.TrimSpace(raw)
		switch {
		case ns == "":
			problems = append(problems, fmt.Sprintf("--watch-namespaces: entry %d is empty (a stray comma?)", i+1))
		case slices.Contains(names, ns):
			problems = append(problems, fmt.Sprintf("--watch-namespaces: %q is listed twice", ns))
		default:
			if msgs := validation.IsDNS1123Label(ns); len(msgs) > 0 {
				problems = append(problems, fmt.Sprintf("--watch-namespaces: %q is not a namespace name: %s",
					ns, strings.Join(msgs, "; ")))
				continue
			}
			names = append(names, ns)
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	return names, nil
}

// connectionNamespaceProblem reports a --connection-namespace the manager would not watch:
// the callback would create connections there that no reconciler ever sees, with a role the
// manager does not have. "" when there is nothing to report.
func connectionNamespaceProblem(connectionNamespace string, watched []string) string {
	if len(watched) == 0 || slices.Contains(watched, connectionNamespace) {
		return ""
	}
	return fmt.Sprintf("--connection-namespace %q must be one of --watch-namespaces (%s): logins create their "+
		"connections there, and the manager watches and may write only those namespaces",
		connectionNamespace, strings.Join(watched, ", "))
}

// cacheNamespaces is cache.Options.DefaultNamespaces for the watched namespaces: every
// informer of the manager (connections, its labelled Secrets) lists and watches each of them
// and nothing else. Nil, for no list, means the whole cluster.
func cacheNamespaces(watched []string) map[string]cache.Config {
	if len(watched) == 0 {
		return nil
	}
	out := make(map[string]cache.Config, len(watched))
	for _, ns := range watched {
		out[ns] = cache.Config{}
	}
	return out
}

// watchedForLog describes the watched namespaces for the start-up log line.
func watchedForLog(watched []string) string {
	if len(watched) == 0 {
		return "all"
	}
	return strings.Join(watched, ",")
}
