package devenv

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Defaults of ProcessSpec.
const (
	// DefaultStartTimeout bounds how long a child may take to become ready.
	DefaultStartTimeout = 60 * time.Second
	// DefaultStopGrace is how long a child has to exit after SIGTERM before SIGKILL.
	DefaultStopGrace = 15 * time.Second
	// readyPoll is the interval between two readiness probes.
	readyPoll = 50 * time.Millisecond
)

// ReadyCheck reports nil once a started child is ready. It is polled until it succeeds, the
// child exits or the start times out; its last error is reported on a timeout.
type ReadyCheck func(ctx context.Context) error

// ProcessSpec describes a child process.
type ProcessSpec struct {
	// Name identifies the child in errors and is the prefix of its echoed lines.
	Name string
	// Path is the executable.
	Path string
	// Args are the arguments, without the program name. They are written to the log file,
	// so they must not carry secrets: pass those in Env.
	Args []string
	// Env is added to the parent's environment; a KEY=VALUE here replaces the parent's KEY.
	Env []string
	// Unset names variables of the parent's environment the child must not inherit.
	Unset []string
	// Dir is the working directory; empty means the parent's.
	Dir string
	// LogFile receives the child's stdout and stderr, appended across restarts. Required.
	LogFile string
	// Echo, when set, also receives each output line, prefixed with "Name | ".
	Echo io.Writer
	// ReadyLine, when set, must match a line of the child's output before it counts as
	// ready; its submatches are kept (ReadyMatch), e.g. the address a child picked.
	ReadyLine *regexp.Regexp
	// Ready are polled, in order, after ReadyLine matched.
	Ready []ReadyCheck
	// StartTimeout bounds the wait for readiness; zero means DefaultStartTimeout.
	StartTimeout time.Duration
	// StopGrace is the wait between SIGTERM and SIGKILL; zero means DefaultStopGrace.
	StopGrace time.Duration
}

// Process is a child process started from a ProcessSpec. Its methods are safe for
// concurrent use, except that Start, Stop, Kill and Restart must not race one another.
type Process struct {
	spec ProcessSpec

	mu         sync.Mutex
	cmd        *exec.Cmd
	done       chan struct{} // closed when the current run has exited
	exitErr    error
	readyMatch []string
	matched    chan struct{} // closed when ReadyLine matched in the current run
	logFile    *os.File
	starts     int
}

// StartProcess starts the child described by spec and waits until it is ready. On failure
// the child is stopped and the error carries the end of its log.
func StartProcess(ctx context.Context, spec ProcessSpec) (*Process, error) {
	if spec.Name == "" || spec.Path == "" || spec.LogFile == "" {
		return nil, errors.New("devenv: a process needs a Name, a Path and a LogFile")
	}
	p := &Process{spec: spec}
	if err := p.Start(ctx); err != nil {
		return nil, err
	}
	return p, nil
}

// Name returns the child's name.
func (p *Process) Name() string { return p.spec.Name }

// LogFile returns the path of the child's log file.
func (p *Process) LogFile() string { return p.spec.LogFile }

// Start starts the child (again, after it stopped) and waits until it is ready.
func (p *Process) Start(ctx context.Context) error {
	p.mu.Lock()
	if p.cmd != nil && !p.exitedLocked() {
		p.mu.Unlock()
		return fmt.Errorf("devenv: %s is already running (pid %d)", p.spec.Name, p.cmd.Process.Pid)
	}
	if err := os.MkdirAll(filepath.Dir(p.spec.LogFile), 0o755); err != nil {
		p.mu.Unlock()
		return err
	}
	logFile, err := os.OpenFile(p.spec.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	p.starts++
	_, _ = fmt.Fprintf(logFile, "=== devenv: %s start #%d at %s: %s %s\n", p.spec.Name, p.starts,
		time.Now().Format(time.RFC3339), p.spec.Path, strings.Join(p.spec.Args, " "))

	sink := &lineSink{file: logFile, echo: p.spec.Echo, prefix: p.spec.Name + " | ", match: p.spec.ReadyLine}
	matched := make(chan struct{})
	sink.onMatch = func(m []string) {
		p.mu.Lock()
		p.readyMatch = m
		p.mu.Unlock()
		close(matched)
	}

	cmd := exec.Command(p.spec.Path, p.spec.Args...)
	cmd.Dir = p.spec.Dir
	cmd.Env = childEnv(os.Environ(), p.spec.Env, p.spec.Unset)
	cmd.Stdout = &lineWriter{sink: sink}
	cmd.Stderr = &lineWriter{sink: sink}
	// Its own process group: a Ctrl-C in the terminal reaches only the parent, which stops
	// the children in order. Pdeathsig ends the child should the parent die without
	// stopping it (a test binary killed by its timeout), so no orphan keeps a port.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	// Output copying ends at most this long after the child exits, even if something
	// inherited its pipes.
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Start(); err != nil {
		_ = logFile.Close() // a log line lost is no reason to fail
		p.mu.Unlock()
		return fmt.Errorf("devenv: start %s: %w", p.spec.Name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done, p.exitErr, p.readyMatch, p.matched, p.logFile = cmd, done, nil, nil, matched, logFile
	p.mu.Unlock()

	go func() {
		err := cmd.Wait()
		sink.flush()
		p.mu.Lock()
		p.exitErr = err
		_, _ = fmt.Fprintf(logFile, "=== devenv: %s (pid %d) exited at %s: %v\n", p.spec.Name, cmd.Process.Pid,
			time.Now().Format(time.RFC3339), exitDescription(err))
		_ = logFile.Close() // a log line lost is no reason to fail
		p.mu.Unlock()
		close(done)
	}()

	if err := p.waitReady(ctx, done, matched); err != nil {
		_ = p.Stop()
		return fmt.Errorf("devenv: %s did not become ready: %w\n%s", p.spec.Name, err, p.Tail(40))
	}
	return nil
}

// waitReady waits for the ready line, then for every ready check.
func (p *Process) waitReady(ctx context.Context, done, matched <-chan struct{}) error {
	timeout := p.spec.StartTimeout
	if timeout <= 0 {
		timeout = DefaultStartTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if p.spec.ReadyLine != nil {
		select {
		case <-matched:
		case <-done:
			return fmt.Errorf("exited (%s) before printing a line matching %q", exitDescription(p.ExitErr()), p.spec.ReadyLine)
		case <-ctx.Done():
			return fmt.Errorf("no line matching %q within %s", p.spec.ReadyLine, timeout)
		}
	}
	for _, check := range p.spec.Ready {
		var last error
		for {
			if last = check(ctx); last == nil {
				break
			}
			select {
			case <-done:
				return fmt.Errorf("exited (%s) before it was ready (last check: %v)", exitDescription(p.ExitErr()), last)
			case <-ctx.Done():
				return fmt.Errorf("not ready within %s: %w", timeout, last)
			case <-time.After(readyPoll):
			}
		}
	}
	return nil
}

// ReadyMatch returns the submatches of ReadyLine in the current run (nil before a match).
func (p *Process) ReadyMatch() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.readyMatch...)
}

// Pid returns the process id of the current run, or 0 before the first start.
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Done returns a channel closed when the current run exits.
func (p *Process) Done() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.done
}

// Running reports whether the child has been started and has not exited.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil && !p.exitedLocked()
}

// ExitErr returns how the last run ended (nil for a clean exit, or while running).
func (p *Process) ExitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exitErr
}

func (p *Process) exitedLocked() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop sends SIGTERM to the child's process group and waits for it to exit; after the grace
// period it sends SIGKILL. Stopping a child that is not running does nothing.
func (p *Process) Stop() error {
	grace := p.spec.StopGrace
	if grace <= 0 {
		grace = DefaultStopGrace
	}
	return p.stop(syscall.SIGTERM, grace)
}

// Kill sends SIGKILL to the child's process group at once, as a crash would, and waits
// for it to exit.
func (p *Process) Kill() error {
	return p.stop(syscall.SIGKILL, 0)
}

func (p *Process) stop(sig syscall.Signal, grace time.Duration) error {
	p.mu.Lock()
	cmd, done := p.cmd, p.done
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	default:
	}
	pid := cmd.Process.Pid
	if err := syscall.Kill(-pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("devenv: signal %s: %w", p.spec.Name, err)
	}
	if sig != syscall.SIGKILL {
		select {
		case <-done:
			return nil
		case <-time.After(grace):
			p.note("did not exit within %s of %s; sending SIGKILL", grace, sig)
			if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("devenv: kill %s: %w", p.spec.Name, err)
			}
		}
	}
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("devenv: %s (pid %d) did not exit after SIGKILL", p.spec.Name, pid)
	}
}

// Restart stops the child (SIGTERM, then SIGKILL) if it runs and starts it again with the
// same spec, waiting until it is ready.
func (p *Process) Restart(ctx context.Context) error {
	if err := p.Stop(); err != nil {
		return err
	}
	return p.Start(ctx)
}

// note writes a devenv line into the child's log while it runs.
func (p *Process) note(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.logFile != nil && !p.exitedLocked() {
		_, _ = fmt.Fprintf(p.logFile, "=== devenv: %s %s\n", p.spec.Name, fmt.Sprintf(format, args...))
	}
}

// Logs returns the whole log file: every run's output, with devenv's start and exit lines.
func (p *Process) Logs() string {
	b, err := os.ReadFile(p.spec.LogFile)
	if err != nil {
		return fmt.Sprintf("(cannot read %s: %v)", p.spec.LogFile, err)
	}
	return string(b)
}

// Tail returns the last n lines of the log file.
func (p *Process) Tail(n int) string {
	return tailLines(p.Logs(), n)
}

// tailLines returns the last n lines of s.
func tailLines(s string, n int) string {
	s = strings.TrimRight(s, "\n")
	idx := len(s)
	for i := 0; i < n; i++ {
		j := strings.LastIndexByte(s[:idx], '\n')
		if j < 0 {
			return s
		}
		idx = j
	}
	return s[idx+1:]
}

// exitDescription says how a run ended.
func exitDescription(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

// childEnv returns base with extra applied (a later KEY=VALUE replaces an earlier KEY) and
// the unset names removed.
func childEnv(base, extra, unset []string) []string {
	drop := map[string]bool{}
	for _, k := range unset {
		drop[k] = true
	}
	for _, kv := range extra {
		k, _, _ := strings.Cut(kv, "=")
		drop[k] = true
	}
	out := make([]string, 0, len(base)+len(extra))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			out = append(out, kv)
		}
	}
	return append(out, extra...)
}

// lineSink receives whole lines from a child's stdout and stderr: it appends them to the log
// file, echoes them with a prefix, and looks for the ready line.
type lineSink struct {
	mu      sync.Mutex
	file    io.Writer
	echo    io.Writer
	prefix  string
	match   *regexp.Regexp
	onMatch func([]string)
	writers []*lineWriter
}

func (s *lineSink) line(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, _ = s.file.Write(b)
	if s.echo != nil {
		_, _ = io.WriteString(s.echo, s.prefix+string(b))
	}
	if s.match != nil && s.onMatch != nil {
		if m := s.match.FindStringSubmatch(string(b)); m != nil {
			s.onMatch(m)
			s.onMatch = nil
		}
	}
}

// flush writes out what each stream left without a final newline.
func (s *lineSink) flush() {
	s.mu.Lock()
	ws := s.writers
	s.mu.Unlock()
	for _, w := range ws {
		w.flush()
	}
}

// lineWriter splits one stream into lines for its sink. Each stream has its own, so a
// partial line on stdout never mixes with one on stderr.
type lineWriter struct {
	sink       *lineSink
	mu         sync.Mutex
	buf        []byte
	registered bool
}

// Write passes every complete line to the sink and keeps the rest.
func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.registered {
		w.registered = true
		w.sink.mu.Lock()
		w.sink.writers = append(w.sink.writers, w)
		w.sink.mu.Unlock()
	}
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.sink.line(w.buf[:i+1])
		w.buf = w.buf[i+1:]
	}
	// A child that prints a huge line without a newline does not grow the buffer forever.
	if len(w.buf) > 64<<10 {
		w.sink.line(append(w.buf, '\n'))
		w.buf = nil
	}
	return len(b), nil
}

func (w *lineWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.sink.line(append(w.buf, '\n'))
		w.buf = nil
	}
}
