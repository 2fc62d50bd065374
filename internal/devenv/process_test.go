package devenv

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// childModeEnv makes the test binary act as a child process for these tests.
const childModeEnv = "DEVENV_TEST_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childModeEnv) {
	case "":
		os.Exit(m.Run())
	case "server":
		runChildServer()
	case "exit":
		fmt.Println("about to fail")
		os.Exit(3)
	case "stubborn":
		// Ignores SIGTERM, so only SIGKILL ends it.
		signal.Ignore(syscall.SIGTERM)
		fmt.Println("ready")
		time.Sleep(time.Hour)
	}
}

// runChildServer serves /ok on a port it picks, prints its address and a secret-free
// environment marker, and exits cleanly on SIGTERM.
func runChildServer() {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "partial line on stderr")
	fmt.Printf("env FOO=%s SHELL_SECRET=%q\n", os.Getenv("FOO"), os.Getenv("SHELL_SECRET"))
	fmt.Printf("listening on http://%s\n", ln.Addr())
	fmt.Fprintln(os.Stderr, " completed")
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM)
	go func() {
		<-sigs
		fmt.Println("got SIGTERM, exiting")
		os.Exit(0)
	}()
	_ = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ok" {
			_, _ = fmt.Fprintln(w, "ok")
			return
		}
		http.NotFound(w, r)
	}))
}

// syncBuffer is a bytes.Buffer safe for the concurrent writes of a child's two streams.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func childSpec(t *testing.T, mode string) ProcessSpec {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return ProcessSpec{
		Name:         "child",
		Path:         self,
		Env:          []string{childModeEnv + "=" + mode, "FOO=bar"},
		Unset:        []string{"SHELL_SECRET"},
		LogFile:      filepath.Join(t.TempDir(), "child.log"),
		StartTimeout: 20 * time.Second,
		StopGrace:    2 * time.Second,
	}
}

func TestProcessStartsWaitsForReadinessAndStops(t *testing.T) {
	t.Setenv("SHELL_SECRET", "must-not-reach-the-child")
	t.Setenv("FOO", "parent-value")
	echo := &syncBuffer{}
	spec := childSpec(t, "server")
	spec.Echo = echo
	spec.ReadyLine = regexp.MustCompile(`^listening on (http://\S+)`)
	p, err := StartProcess(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	base := p.ReadyMatch()[1]
	if err := HTTPReady(base + "/ok")(context.Background()); err != nil {
		t.Fatalf("child not serving after start: %v", err)
	}
	if !p.Running() || p.Pid() == 0 {
		t.Fatal("Running() = false after a successful start")
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("still running after Stop")
	}
	if err := p.ExitErr(); err != nil {
		t.Fatalf("a child that exits on SIGTERM should exit cleanly, got %v", err)
	}
	logs := p.Logs()
	for _, want := range []string{"env FOO=bar SHELL_SECRET=\"\"", "partial line on stderr completed",
		"got SIGTERM, exiting", "=== devenv: child start #1", "exited at"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if !strings.Contains(echo.String(), "child | listening on http://") {
		t.Errorf("echo lacks the prefixed line:\n%s", echo.String())
	}
	if strings.Contains(echo.String(), "=== devenv") {
		t.Errorf("devenv's own log lines should stay in the file:\n%s", echo.String())
	}
}

func TestProcessRestartKeepsOneLogAndRunsAgain(t *testing.T) {
	spec := childSpec(t, "server")
	spec.ReadyLine = regexp.MustCompile(`^listening on (http://\S+)`)
	p, err := StartProcess(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Stop() })
	first := p.Pid()
	if err := p.Kill(); err != nil {
		t.Fatal(err)
	}
	if p.ExitErr() == nil {
		t.Fatal("a killed child should report its signal")
	}
	if err := p.Restart(context.Background()); err != nil {
		t.Fatal(err)
	}
	if p.Pid() == first || !p.Running() {
		t.Fatalf("restart did not start a new process (pid %d, was %d)", p.Pid(), first)
	}
	if err := HTTPReady(p.ReadyMatch()[1] + "/ok")(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(p.Logs(), "=== devenv: child start #"); n != 2 {
		t.Fatalf("want two start markers in the log, got %d", n)
	}
}

func TestProcessThatExitsEarlyFailsWithItsLog(t *testing.T) {
	spec := childSpec(t, "exit")
	spec.ReadyLine = regexp.MustCompile(`^never printed`)
	_, err := StartProcess(context.Background(), spec)
	if err == nil {
		t.Fatal("want an error for a child that exits before it is ready")
	}
	for _, want := range []string{"exited", "exit status 3", "about to fail"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

func TestProcessReadyCheckTimesOut(t *testing.T) {
	spec := childSpec(t, "server")
	spec.StartTimeout = 500 * time.Millisecond
	spec.Ready = []ReadyCheck{func(context.Context) error { return fmt.Errorf("not yet") }}
	start := time.Now()
	_, err := StartProcess(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "not yet") {
		t.Fatalf("want a timeout naming the last check's error, got %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatalf("the failed start took %s", time.Since(start))
	}
}

func TestProcessStopEscalatesToSIGKILL(t *testing.T) {
	spec := childSpec(t, "stubborn")
	spec.ReadyLine = regexp.MustCompile(`^ready`)
	spec.StopGrace = 300 * time.Millisecond
	p, err := StartProcess(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}
	if p.Running() {
		t.Fatal("still running after Stop")
	}
	if !strings.Contains(p.Logs(), "sending SIGKILL") {
		t.Errorf("the log should say the child was killed:\n%s", p.Logs())
	}
}

func TestChildEnv(t *testing.T) {
	got := childEnv([]string{"A=1", "B=2", "C=3"}, []string{"B=9", "D=4"}, []string{"C"})
	want := []string{"A=1", "B=9", "D=4"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("childEnv = %v, want %v", got, want)
	}
}

func TestTailLines(t *testing.T) {
	if got := tailLines("a\nb\nc\n", 2); got != "b\nc" {
		t.Fatalf("tailLines = %q", got)
	}
	if got := tailLines("a\nb", 5); got != "a\nb" {
		t.Fatalf("tailLines = %q", got)
	}
}

func TestFreePortAndPortFree(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	if !PortFree(addr) {
		t.Fatalf("%s should be free", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	if PortFree(addr) {
		t.Fatalf("%s is bound and should not be free", addr)
	}
}
