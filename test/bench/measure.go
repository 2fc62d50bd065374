package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"k8s.io/client-go/kubernetes"
)

// writeVerbs are the HTTP methods of API writes, as client-go's rest_client_requests_total
// and the apiserver's apiserver_request_total name them.
var writeVerbs = map[string]bool{"POST": true, "PUT": true, "PATCH": true, "DELETE": true, "APPLY": true,
	"DELETECOLLECTION": true, "CREATE": true, "UPDATE": true}

// metricLine is one sample of the Prometheus text format: name{labels} value.
var metricLine = regexp.MustCompile(`^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? ([^ ]+)`)

// labelPair is one label="value" of a sample.
var labelPair = regexp.MustCompile(`([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"`)

// sample is one parsed metric sample.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// parseMetrics parses the Prometheus text format, keeping the samples of the named metrics.
func parseMetrics(r io.Reader, names ...string) ([]sample, error) {
	want := map[string]bool{}
	for _, n := range names {
		want[n] = true
	}
	var out []sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		m := metricLine.FindStringSubmatch(line)
		if m == nil || !want[m[1]] {
			continue
		}
		v, err := strconv.ParseFloat(m[4], 64)
		if err != nil {
			continue
		}
		s := sample{name: m[1], labels: map[string]string{}, value: v}
		for _, lp := range labelPair.FindAllStringSubmatch(m[3], -1) {
			s.labels[lp[1]] = lp[2]
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// managerCounters are the manager's own counters, from its metrics endpoint.
type managerCounters struct {
	// Writes counts the manager's API requests with a write method, Requests all of them.
	Writes, Requests float64
	// ByMethod counts API requests per HTTP method.
	ByMethod map[string]float64
	// InstagramCalls counts the manager's Instagram calls per endpoint.
	InstagramCalls map[string]float64
	// Reconciles counts reconciles per result.
	Reconciles map[string]float64
}

// scrapeManager reads the manager's counters.
func (b *bench) scrapeManager(ctx context.Context) (managerCounters, error) {
	c := managerCounters{ByMethod: map[string]float64{}, InstagramCalls: map[string]float64{},
		Reconciles: map[string]float64{}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, b.mgr.MetricsURL+"/metrics", nil)
	if err != nil {
		return c, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return c, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return c, err
	}
	// The whole exposition is kept for a closer look (latency histograms, queue depths).
	_ = os.WriteFile(filepath.Join(b.cfg.WorkDir, "manager-metrics.txt"), raw, 0o644)
	samples, err := parseMetrics(strings.NewReader(string(raw)), "rest_client_requests_total", "igconnect_instagram_calls_total",
		"controller_runtime_reconcile_total")
	if err != nil {
		return c, err
	}
	for _, s := range samples {
		switch s.name {
		case "rest_client_requests_total":
			m := strings.ToUpper(s.labels["method"])
			c.ByMethod[m] += s.value
			c.Requests += s.value
			if writeVerbs[m] {
				c.Writes += s.value
			}
		case "igconnect_instagram_calls_total":
			c.InstagramCalls[s.labels["endpoint"]] += s.value
		case "controller_runtime_reconcile_total":
			c.Reconciles[s.labels["result"]] += s.value
		}
	}
	return c, nil
}

// apiserverWrites returns the API server's count of write requests on connections, Secrets
// and events, the only objects igconnect writes, by resource.
func (b *bench) apiserverWrites(ctx context.Context) (map[string]float64, error) {
	cs, err := kubernetes.NewForConfig(b.restCfg)
	if err != nil {
		return nil, err
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(ctx)
	if err != nil {
		return nil, err
	}
	samples, err := parseMetrics(strings.NewReader(string(raw)), "apiserver_request_total")
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, s := range samples {
		res := s.labels["resource"]
		if s.labels["subresource"] != "" {
			res += "/" + s.labels["subresource"]
		}
		switch s.labels["resource"] {
		case "instagramconnections", "secrets", "events":
		default:
			continue
		}
		if writeVerbs[strings.ToUpper(s.labels["verb"])] {
			out[res] += s.value
		}
	}
	return out, nil
}

// procStat is a process's CPU time and memory.
type procStat struct {
	// CPU is user plus system time.
	CPU time.Duration
	// RSS is the resident set (VmRSS); HWM its peak (VmHWM).
	RSS, HWM int64
}

// clockTicks is USER_HZ, the unit of utime and stime in /proc/PID/stat; 100 on every Linux
// architecture Go supports.
const clockTicks = 100

// readProc reads /proc/PID/stat and /proc/PID/status.
func readProc(pid int) (procStat, error) {
	var ps procStat
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ps, err
	}
	// The command name may hold spaces; the fields after it are fixed. utime and stime are
	// fields 14 and 15, i.e. the 12th and 13th after the closing parenthesis.
	rest := string(raw[strings.LastIndexByte(string(raw), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return ps, fmt.Errorf("short /proc/%d/stat", pid)
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	ps.CPU = time.Duration(ut+st) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return ps, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmRSS":
			ps.RSS = kb << 10
		case "VmHWM":
			ps.HWM = kb << 10
		}
	}
	return ps, nil
}

// sandboxCall is one Instagram call as the sandbox logged it.
type sandboxCall struct {
	endpoint string
	// at is when the request arrived: the log line's time less the request's duration.
	at time.Time
}

// sandboxEndpoint maps a request path to the sandbox's endpoint name; "" for the control API
// and pages.
func sandboxEndpoint(path string) string {
	switch {
	case path == "/oauth/authorize":
		return "authorize"
	case path == "/oauth/access_token":
		return "code_exchange"
	case strings.HasSuffix(path, "/refresh_access_token"):
		return "refresh"
	case strings.HasSuffix(path, "/access_token"):
		return "token_exchange"
	case strings.HasSuffix(path, "/me"):
		return "profile"
	}
	return ""
}

// sandboxLogField finds key=value pairs of the sandbox's slog text lines.
var sandboxLogField = regexp.MustCompile(`(time|msg|path|duration)=("[^"]*"|\S+)`)

// sandboxCalls reads the Instagram calls the sandbox logged that arrived in [from, to].
func (b *bench) sandboxCalls(from, to time.Time) ([]sandboxCall, error) {
	f, err := os.Open(filepath.Join(b.cfg.WorkDir, "sandbox.log"))
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // read only: closing it loses nothing
	var out []sandboxCall
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fields := map[string]string{}
		for _, m := range sandboxLogField.FindAllStringSubmatch(sc.Text(), -1) {
			fields[m[1]] = strings.Trim(m[2], `"`)
		}
		if fields["msg"] != "request" {
			continue
		}
		ep := sandboxEndpoint(fields["path"])
		if ep == "" {
			continue
		}
		end, err := time.Parse(time.RFC3339Nano, fields["time"])
		if err != nil {
			continue
		}
		d, _ := time.ParseDuration(fields["duration"])
		at := end.Add(-d)
		if at.Before(from) || at.After(to) {
			continue
		}
		out = append(out, sandboxCall{endpoint: ep, at: at})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].at.Before(out[j].at) })
	return out, sc.Err()
}

// peakPerSecond returns the most calls in any one-second window [t, t+1s) (sliding), and in
// any calendar second (fixed buckets).
func peakPerSecond(calls []sandboxCall) (sliding, fixed int) {
	j := 0
	buckets := map[int64]int{}
	for i := range calls {
		for calls[i].at.Sub(calls[j].at) >= time.Second {
			j++
		}
		sliding = max(sliding, i-j+1)
		sec := calls[i].at.Unix()
		buckets[sec]++
		fixed = max(fixed, buckets[sec])
	}
	return sliding, fixed
}

// percentile returns the p-th percentile (0..100) of ds, nearest-rank.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	idx := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(idx, len(s)-1))]
}

// cpuByProcess returns the CPU time of the harness and of each process it started (etcd,
// kube-apiserver, sandbox, manager), by command name: on a machine this small they share
// the cores, and where the time goes explains the figures.
func cpuByProcess() map[string]time.Duration {
	self := os.Getpid()
	out := map[string]time.Duration{}
	if ps, err := readProc(self); err == nil {
		out["bench"] = ps.CPU
	}
	// The whole machine's busy time, from which cpuDiff derives what other programs used.
	if raw, err := os.ReadFile("/proc/stat"); err == nil {
		f := strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])
		var busy int64
		for i, v := range f[1:] {
			if i == 3 || i == 4 { // idle, iowait
				continue
			}
			if i >= 8 { // guest time is already counted in user
				break
			}
			n, _ := strconv.ParseInt(v, 10, 64)
			busy += n
		}
		out[machineKey] = time.Duration(busy) * time.Second / clockTicks
	}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		s := string(raw)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		f := strings.Fields(s[closing+2:])
		if len(f) < 2 || f[1] != strconv.Itoa(self) {
			continue
		}
		if ps, err := readProc(pid); err == nil {
			out[s[open+1:closing]] += ps.CPU
		}
	}
	return out
}

// machineKey is the entry of cpuByProcess that holds the whole machine's busy time.
const machineKey = "(machine)"

// cpuDiff renders the CPU time spent per process between two snapshots, largest first, and
// what the rest of the machine used meanwhile.
func cpuDiff(after, before map[string]time.Duration) string {
	type kv struct {
		name string
		d    time.Duration
	}
	var list []kv
	var ours time.Duration
	for k, v := range after {
		if d := v - before[k]; d > 0 && k != machineKey {
			list = append(list, kv{k, d})
			ours += d
		}
	}
	if m := after[machineKey] - before[machineKey]; m > ours {
		list = append(list, kv{"other programs", m - ours})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].d > list[j].d })
	parts := make([]string, 0, len(list))
	for _, x := range list {
		parts = append(parts, fmt.Sprintf("%s %.1fs", x.name, x.d.Seconds()))
	}
	return strings.Join(parts, ", ")
}

// profileSeconds is the length of the CPU profiles taken with -profile.
const profileSeconds = 10

// startProfiles takes CPU profiles of kube-apiserver and, when pprofAddr is set, of the
// manager, in the background, into the -profile folder; wait for them with the returned
// function.
func (b *bench) startProfiles(ctx context.Context, name string) func() {
	pprofAddr := b.pprofAddr
	if b.cfg.Profile == "" {
		return func() {}
	}
	if err := os.MkdirAll(b.cfg.Profile, 0o755); err != nil {
		b.logf("profile: %v", err)
		return func() {}
	}
	done := make(chan struct{}, 2)
	n := 0
	path := fmt.Sprintf("/debug/pprof/profile?seconds=%d", profileSeconds)
	n++
	go func() {
		defer func() { done <- struct{}{} }()
		cs, err := kubernetes.NewForConfig(b.restCfg)
		if err == nil {
			var raw []byte
			raw, err = cs.RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds",
				strconv.Itoa(profileSeconds)).Timeout(2 * profileSeconds * time.Second).DoRaw(ctx)
			if err == nil {
				err = os.WriteFile(filepath.Join(b.cfg.Profile, name+"-kube-apiserver.pprof"), raw, 0o644)
			}
		}
		if err != nil {
			b.logf("profile of kube-apiserver: %v", err)
		}
	}()
	if pprofAddr != "" {
		n++
		go func() {
			defer func() { done <- struct{}{} }()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+pprofAddr+path, nil)
			if err == nil {
				var resp *http.Response
				if resp, err = http.DefaultClient.Do(req); err == nil {
					var raw []byte
					raw, err = io.ReadAll(resp.Body)
					resp.Body.Close()
					if err == nil {
						err = os.WriteFile(filepath.Join(b.cfg.Profile, name+"-manager.pprof"), raw, 0o644)
					}
				}
			}
			if err != nil {
				b.logf("profile of the manager: %v", err)
			}
		}()
	}
	return func() {
		for range n {
			<-done
		}
	}
}

// heapProfile saves the manager's heap profile as name-manager-heap.pprof, with -profile.
func (b *bench) heapProfile(ctx context.Context, name string) {
	if b.cfg.Profile == "" || b.pprofAddr == "" {
		return
	}
	if err := os.MkdirAll(b.cfg.Profile, 0o755); err != nil {
		b.logf("heap profile: %v", err)
		return
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+b.pprofAddr+"/debug/pprof/heap", nil)
	if err != nil {
		return
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.logf("heap profile: %v", err)
		return
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(filepath.Join(b.cfg.Profile, name+"-manager-heap.pprof"), raw, 0o644)
	}
	if err != nil {
		b.logf("heap profile: %v", err)
	}
}

// quiesce waits until the manager has made no API write for quiet (the events of a
// convergence are written after the statuses they mirror), at most limit, and returns how
// long it waited.
func (b *bench) quiesce(ctx context.Context, quiet, limit time.Duration) (time.Duration, error) {
	start := time.Now()
	last, err := b.scrapeManager(ctx)
	if err != nil {
		return 0, err
	}
	since := time.Now()
	for time.Since(start) < limit {
		if err := sleep(ctx, 250*time.Millisecond); err != nil {
			return 0, err
		}
		cur, err := b.scrapeManager(ctx)
		if err != nil {
			return 0, err
		}
		if cur.Writes != last.Writes {
			last, since = cur, time.Now()
			continue
		}
		if time.Since(since) >= quiet {
			return since.Sub(start), nil
		}
	}
	return time.Since(start), fmt.Errorf("the manager still writes %s after convergence", limit)
}
