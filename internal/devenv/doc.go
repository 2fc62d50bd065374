// Package devenv runs igconnect's pieces on one machine: a local control plane built from
// the envtest binaries, and the real bin/manager and bin/instagram-sandbox as child
// processes. `make run` (cmd/igconnect-dev), the end-to-end suite (test/e2e) and the
// benchmarks share it, so that all three start, watch and stop the processes the same way.
//
// A child's stdout and stderr go to a log file (and, optionally, to a writer with a prefix
// on each line); readiness is a line on its output and HTTP probes; stopping is SIGTERM to
// the child's process group, then SIGKILL after a grace period. Children run in their own
// process group so that a Ctrl-C in the terminal reaches only the parent, which then stops
// them in order: the manager before the sandbox, both before the control plane.
//
// Nothing secret is printed: command lines are logged without their environment, and the
// app secret travels to the manager only through its environment.
package devenv
