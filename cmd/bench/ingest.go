package main

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/local"
	"supportpipe/internal/runtime/logging"
)

const benchSecret = "bench-secret"

type ingestRound struct{ ingest, bare float64 }

func (r ingestRound) ratio() float64 { return r.ingest / r.bare }

// ingestResult is the median round and every round, by ratio.
type ingestResult struct {
	ingestRound
	rounds []ingestRound
}

// startLocal runs the real local server on a temp data dir, as supportctl
// serve does: the processor (workers loops, none when 0) runs in a worker
// child process, this binary started again with benchWorkerEnv set.
func startLocal(ctx context.Context, log *slog.Logger, workers int) (url string, srv *local.Server, stop func(), err error) {
	dir, err := os.MkdirTemp(os.Getenv(benchDirEnv), "local-")
	if err != nil {
		return "", nil, nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s, err := openLocal(ctx, dir, log)
	if err != nil {
		cancel()
		return "", nil, nil, err
	}
	s.Workers = workers
	exe, err := os.Executable()
	if err != nil {
		cancel()
		return "", nil, nil, err
	}
	s.Spawn = func() *exec.Cmd {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), benchWorkerEnv+"="+dir)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd
	}
	ln, err := net.Listen("tcp", s.Env.Addr)
	if err != nil {
		cancel()
		return "", nil, nil, err
	}
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return "http://" + ln.Addr().String(), s, func() {
		cancel()
		<-done
		s.Close()
		// The data dir goes with the bench's own (main), after the
		// last figure: deleting it here would put its I/O in the next one.
	}, nil
}

// openLocal opens the bench's local pipeline on dir.
func openLocal(ctx context.Context, dir string, log *slog.Logger) (*local.Server, error) {
	settings, err := config.ReadSettings(func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	settings.Addr, settings.DataDir, settings.ReportsRoot, settings.Account = "127.0.0.1:0", dir, dir, 1
	env := local.Config{Settings: settings, WebhookSecrets: []string{benchSecret}, APIToken: "t"}
	cls, err := local.NewClassifiers(settings.File)
	if err != nil {
		return nil, err
	}
	return local.Open(ctx, env, cls, log)
}

// benchWorkerEnv names the data dir of the server whose worker this
// process is (startLocal).
const benchWorkerEnv = "BENCH_WORKER_DATA_DIR"

// runWorker is the worker child of startLocal's server.
func runWorker(dir string) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	s, err := openLocal(ctx, dir, logging.JSON(os.Stderr, slog.LevelError))
	if err != nil {
		return err
	}
	defer s.Close()
	return s.Work(ctx)
}

// startBare runs a handler that does nothing but answer 202: the ceiling of
// net/http plus the load generator on this machine.
func startBare() (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"status":"accepted"}`))
	})}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

var seq atomic.Int64

// payload is a distinct message_created so each request is a new event.
func payload() ([]byte, string) {
	n := seq.Add(1)
	return customerMessage(n, fmt.Appendf(nil, `"Hi, I was charged twice for order #A-%d, can someone help?"`, n))
}

// customerMessage is the message_created of customer message n, whose
// content is the JSON string content, and its delivery id.
func customerMessage(n int64, content []byte) ([]byte, string) {
	return []byte(fmt.Sprintf(`{"event":"message_created","id":%d,"content":%s,`+
		`"message_type":"incoming","private":false,"created_at":%q,"account":{"id":7,"name":"Northwind"},`+
		`"inbox":{"id":4,"name":"Web"},"sender":{"id":5512,"name":"Priya"},`+
		`"conversation":{"id":%d,"inbox_id":4,"status":"open","labels":[],"updated_at":1778577267.604113,"created_at":1778577267,"messages":[]}}`,
		n, content, time.Now().UTC().Format(time.RFC3339Nano), n%5000+1)), "bench-" + strconv.FormatInt(n, 10)
}

func signedRequest(ctx context.Context, url string) *http.Request {
	body, delivery := payload()
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/webhooks/chatwoot", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Chatwoot-Delivery", delivery)
	req.Header.Set("X-Chatwoot-Timestamp", ts)
	req.Header.Set("X-Chatwoot-Signature", chatwoot.Sign([]byte(benchSecret), ts, body))
	return req
}

func newClient() *http.Client {
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}}
}

// closedLoop runs 64 clients back to back for d and returns accepted req/s.
func closedLoop(ctx context.Context, url string, d time.Duration) (float64, error) {
	client := newClient()
	var ok, bad atomic.Int64
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				resp, err := client.Do(signedRequest(ctx, url))
				if err != nil {
					bad.Add(1)
					continue
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					ok.Add(1)
				} else {
					bad.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	if bad.Load() > 0 {
		return 0, fmt.Errorf("%d requests failed at %s", bad.Load(), url)
	}
	return float64(ok.Load()) / d.Seconds(), nil
}

// benchDirEnv names the directory that holds every data dir of a run.
const benchDirEnv = "BENCH_DIR"

// benchServeEnv makes this binary a server under test (spawnServer);
// benchProfileEnv names the file of the edge server's CPU profile.
const benchServeEnv, benchProfileEnv = "BENCH_SERVE", "BENCH_EDGE_PROFILE"

// spawnServer runs the bare handler or the local edge in a child process,
// as supportctl serve runs it, so that it shares neither a Go scheduler nor
// a heap with the load generator. The child stops when its stdin closes.
func spawnServer(mode string) (url string, stop func(), pid int, err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", nil, 0, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), benchServeEnv+"="+mode)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return "", nil, 0, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return "", nil, 0, err
	}
	if err := cmd.Start(); err != nil {
		return "", nil, 0, err
	}
	stop = func() {
		in.Close()
		_ = cmd.Wait()
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		stop()
		return "", nil, 0, fmt.Errorf("bench %s server: %w", mode, err)
	}
	return strings.TrimSpace(line), stop, cmd.Process.Pid, nil
}

// serveChild is the child of spawnServer: it prints the server's URL and
// serves until its stdin closes. The edge runs without the processor
// (throughput of verify + durable enqueue alone).
func serveChild(mode string) error {
	var url string
	var stop func()
	var err error
	switch mode {
	case "bare":
		url, stop, err = startBare()
	case "edge":
		url, _, stop, err = startLocal(context.Background(), slog.New(slog.NewJSONHandler(io.Discard, nil)), 0)
	default:
		err = fmt.Errorf("unknown server %q", mode)
	}
	if err != nil {
		return err
	}
	defer stop()
	if path := os.Getenv(benchProfileEnv); path != "" && mode == "edge" {
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Println(url)
	_, _ = io.Copy(io.Discard, os.Stdin)
	return nil
}

// settle waits until process pid is idle (under 10 % of a core for 200 ms),
// or a minute has passed.
func settle(pid int) {
	deadline := time.Now().Add(time.Minute)
	last, ok := cpuTicks(pid)
	for ok && time.Now().Before(deadline) {
		time.Sleep(200 * time.Millisecond)
		var now int64
		if now, ok = cpuTicks(pid); !ok || now-last <= 2 {
			return
		}
		last = now
	}
	if !ok {
		time.Sleep(time.Second) // no /proc: give it a second
	}
}

// cpuTicks is the user and system CPU time of pid in clock ticks
// (/proc/pid/stat, Linux).
func cpuTicks(pid int) (int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: fields follow
	// the last ')'. utime and stime are fields 14 and 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, false
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	return u + s, err1 == nil && err2 == nil
}

// ingestThroughput alternates short closed-loop runs against the bare
// handler and the local edge, rounds times, after one warm-up round: on a
// shared machine the capacity drifts over seconds, and a ratio of two runs
// taken one after the other measures that drift as much as the edge.
// It reports the median round's figures and the median of the rounds'
// ratios.
func ingestThroughput(ctx context.Context, d time.Duration, rounds int) (ingestResult, error) {
	bareURL, stopBare, _, err := spawnServer("bare")
	if err != nil {
		return ingestResult{}, err
	}
	defer stopBare()
	url, stop, edge, err := spawnServer("edge")
	if err != nil {
		return ingestResult{}, err
	}
	defer stop()
	rounds = max(rounds, 1)
	per := d / time.Duration(rounds)
	var res ingestResult
	for i := -1; i < rounds; i++ {
		bare, err := closedLoop(ctx, bareURL, per)
		if err != nil {
			return ingestResult{}, err
		}
		ing, err := closedLoop(ctx, url, per)
		if err != nil {
			return ingestResult{}, err
		}
		// What the edge deferred during the round (copying the journal into
		// SQLite) runs now, not during the next round's baseline.
		settle(edge)
		if i >= 0 { // the first round warms both servers and the client
			res.rounds = append(res.rounds, ingestRound{ingest: ing, bare: bare})
		}
	}
	slices.SortFunc(res.rounds, func(a, b ingestRound) int { return cmp.Compare(a.ratio(), b.ratio()) })
	res.ingestRound = res.rounds[len(res.rounds)/2]
	return res, nil
}

type latencyResult struct {
	p50, p99, p999, max time.Duration
	slow                int // acknowledgements slower than slowAck
	sent, errors        int
	// stall is the longest time the data dir's disk held requests and
	// completed none (-1 when the disk has no statistics).
	stall     time.Duration
	drain     time.Duration
	backlog   int64
	drainRate float64
}

// slowAck is the latency target; the row counts the acknowledgements over it.
const slowAck = 10 * time.Millisecond

// ackLatency sends at a fixed rate (open loop: a slow answer does not slow
// the sender, as with Chatwoot) with the processor running, then waits for
// the processor to drain what the run queued.
func ackLatency(ctx context.Context, log *slog.Logger, rate int, d time.Duration) (latencyResult, error) {
	url, srv, stop, err := startLocal(ctx, log, 2)
	if err != nil {
		return latencyResult{}, err
	}
	defer stop()
	watch := watchDisk(os.Getenv(benchDirEnv))
	r := fixedRate(ctx, url, rate, d)
	r.stall = watch()
	end := time.Now()
	first, err := srv.Queue.Depth(ctx)
	if err != nil {
		return r, err
	}
	// Wait up to drainLimit; past it, report the backlog and the rate.
	const drainLimit = 3 * time.Minute
	for time.Since(end) < drainLimit {
		ok, err := srv.Drained(ctx)
		if err != nil {
			return r, err
		}
		if ok {
			r.drain = time.Since(end)
			return r, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	last, err := srv.Queue.Depth(ctx)
	if err != nil {
		return r, err
	}
	r.drain, r.backlog = time.Since(end), last.Visible+last.InFlight+last.Delayed
	r.drainRate = float64(first.Visible+first.InFlight-last.Visible-last.InFlight) / r.drain.Seconds()
	return r, nil
}

func fixedRate(ctx context.Context, url string, rate int, d time.Duration) latencyResult {
	client := newClient()
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	lat := make([]time.Duration, n)
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		if wait := time.Until(start.Add(time.Duration(i) * interval)); wait > 0 {
			time.Sleep(wait)
		}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			req := signedRequest(ctx, url)
			t0 := time.Now()
			resp, err := client.Do(req)
			lat[i] = time.Since(t0)
			if err != nil {
				errs.Add(1)
				return
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusAccepted {
				errs.Add(1)
			}
		}(i)
	}
	wg.Wait()
	slices.Sort(lat)
	slow := n - sort.Search(n, func(i int) bool { return lat[i] > slowAck })
	return latencyResult{p50: lat[n/2], p99: lat[n*99/100], p999: lat[n*999/1000], max: lat[n-1], slow: slow,
		sent: n, errors: int(errs.Load())}
}
