// Command chaos drives the local server the way production would hurt it:
// thousands of signed webhooks with duplicates, Chatwoot re-emissions and
// poison (one-word messages of up to a million characters, times in year
// 9999 and 1970, bodies over SQS's limit, characters SQS refuses, payloads
// of the wrong shape), a Chatwoot API that fails, rate-limits and hangs, a
// queue whose sends fail now and then, and kill -9 mid-run. Then, with
// poison still flowing, it measures how long ordinary messages take to be
// processed. It prints what was sent, acknowledged, processed,
// dead-lettered, spooled and lost, every effect applied twice, and the
// delays. `make chaos` runs it; it is not part of `make test`.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/chatwoottest"
	"supportpipe/internal/devtools/traffic"
	"supportpipe/internal/ports/queue"
)

const (
	secret = "chaos-secret"
	token  = "chaos-api-token"
	// account is the server's default account, and the one ordinary
	// traffic names.
	account = 7
)

type options struct {
	n, kills, concurrency    int
	dup, reemit, poison      float64
	fault, hang, faultAfter  float64
	sendFail                 float64
	transient, measureFaults bool
	probes                   int
	probeRate, probePoison   float64
	seed                     uint64
	drainTimeout             time.Duration
	out                      string
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 10000, "distinct webhooks")
	flag.IntVar(&o.kills, "kills", 3, "kill -9 and restart the server this many times mid-run")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent senders")
	flag.Float64Var(&o.dup, "dup", 0.05, "share re-sent with the same delivery id")
	flag.Float64Var(&o.reemit, "reemit", 0.02, "share re-emitted by Chatwoot with a new delivery id")
	flag.Float64Var(&o.poison, "poison", 0.02, "poison events added, as a share of -n (0: none)")
	flag.Float64Var(&o.fault, "fault", 0.20, "share of Chatwoot API calls answered 500 or 429")
	flag.Float64Var(&o.hang, "hang", 0.01, "share of Chatwoot API calls that hang")
	flag.Float64Var(&o.faultAfter, "fault-after", 0.5, "share of a note post's 500s and hangs that come after the note was created")
	flag.Float64Var(&o.sendFail, "send-fail", 0.005, "share of the edge's queue sends that fail (the spool takes them)")
	flag.BoolVar(&o.transient, "transient", false, "only transient faults: no hangs, never 3 failures in a row")
	flag.IntVar(&o.probes, "probes", 300, "ordinary messages whose processing delay is measured after the storm (0: skip)")
	flag.Float64Var(&o.probeRate, "probe-rate", 10, "measured messages sent per second")
	flag.Float64Var(&o.probePoison, "probe-poison", 0.2, "poison events sent alongside each measured message")
	flag.BoolVar(&o.measureFaults, "measure-faults", false, "keep Chatwoot's faults during the measured phase")
	flag.Uint64Var(&o.seed, "seed", 1, "random seed")
	flag.DurationVar(&o.drainTimeout, "drain-timeout", 20*time.Minute, "give up waiting for the queue to drain after this")
	flag.StringVar(&o.out, "out", "", "also write the result table to this file")
	flag.Parse()
	if err := run(context.Background(), o); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
}

type server struct {
	bin, dir, addr, fakeURL string
	sendFail                float64
	cmd                     *exec.Cmd
	log                     *os.File
}

func (s *server) start() error {
	s.cmd = exec.Command(s.bin, "serve")
	s.cmd.Env = append(os.Environ(), "SUPPORT_DATA_DIR="+s.dir, "SUPPORT_ADDR="+s.addr, "SUPPORT_REPORTS_ROOT="+s.dir,
		"CHATWOOT_WEBHOOK_SECRET="+secret, "SUPPORT_API_TOKEN="+token, "SUPPORT_LOG_LEVEL=warn",
		"CHATWOOT_LIVE=true", "CHATWOOT_BASE_URL="+s.fakeURL, "CHATWOOT_API_TOKEN=chaos-token",
		"CHATWOOT_ACCOUNT_ID="+strconv.Itoa(account),
		// Read only by a chaos build (internal/runtime/local/edgequeue_chaos.go).
		"SUPPORT_CHAOS_SEND_FAIL="+strconv.FormatFloat(s.sendFail, 'g', -1, 64))
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		return err
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", s.addr); err == nil {
			c.Close()
			return nil
		}
	}
	return fmt.Errorf("server did not start on %s", s.addr)
}

func (s *server) kill() {
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_, _ = s.cmd.Process.Wait()
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	_, _ = s.cmd.Process.Wait()
}

func run(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "chaos-")
	if err != nil {
		return err
	}
	failed := false
	defer func() {
		if failed {
			fmt.Fprintf(os.Stderr, "chaos: the data dir and the server log are kept in %s\n", work)
			return
		}
		os.RemoveAll(work)
	}()
	bin := filepath.Join(work, "supportctl")
	// The chaos tag compiles in the edge's failing queue sends; the
	// product build has none.
	build := exec.Command("go", "build", "-tags", "chaos", "-o", bin, "./cmd/supportctl")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	large, err := largeBodies()
	if err != nil {
		return err
	}
	fake := newFake(o.fault, o.hang, o.faultAfter, o.transient, o.seed)
	fakeSrv := httptest.NewServer(fake)
	defer fakeSrv.Close()
	logf, err := os.Create(filepath.Join(work, "server.log"))
	if err != nil {
		return err
	}
	defer logf.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := &server{bin: bin, dir: filepath.Join(work, "data"), addr: addr, fakeURL: fakeSrv.URL, sendFail: o.sendFail, log: logf}
	if err := os.MkdirAll(srv.dir, 0o700); err != nil {
		return err
	}
	if err := srv.start(); err != nil {
		return err
	}

	rng := rand.New(rand.NewPCG(o.seed, 7))
	events := traffic.Generate(o.n, rng)
	// Poison has message and conversation ids of its own, far from the
	// ordinary traffic's (conversations from 70,000, messages from 5,000,000).
	poisoner := &traffic.Poisoner{Large: large, NextMessage: 9_000_000, NextConversation: 90_000}
	for range int(float64(o.n) * o.poison) {
		e, err := poisoner.Next(rng, time.Now())
		if err != nil {
			return err
		}
		events = append(events, e)
	}
	sends := traffic.Plan(events, o.dup, o.reemit, rng)
	fmt.Fprintf(os.Stderr, "chaos: %d distinct events (%d poison), %d sends, %d kills, faults %.0f%% (hang %.1f%%, %.0f%% of a note's after it was created, transient=%v), queue sends failing %.2f%%\n",
		len(events), len(events)-o.n, len(sends), o.kills, 100*o.fault, 100*o.hang, 100*o.faultAfter, o.transient, 100*o.sendFail)

	l := newLedger()
	client := &http.Client{Timeout: 5 * time.Second} // Chatwoot's timeout
	jobs := make(chan traffic.Send)
	var wg sync.WaitGroup
	var sentN atomic.Int64
	for range o.concurrency {
		wg.Go(func() {
			for s := range jobs {
				l.record(s, post(ctx, client, addr, s))
				sentN.Add(1)
			}
		})
	}
	killAt := map[int]bool{}
	for k := 1; k <= o.kills; k++ {
		killAt[len(sends)*k/(o.kills+1)] = true
	}
	for i, s := range sends {
		if killAt[i] {
			srv.kill()
			fmt.Fprintf(os.Stderr, "chaos: kill -9 at %s after %d sends\n", time.Now().UTC().Format("15:04:05.000"), sentN.Load())
			if err := srv.start(); err != nil {
				return err
			}
		}
		jobs <- s
	}
	close(jobs)
	wg.Wait()
	sendEnd := time.Now()
	fmt.Fprintf(os.Stderr, "chaos: sent %d, acknowledged %d; waiting for the queue and the spool to drain\n", l.sent, l.acked)

	var res result
	if res.drained, err = waitDrained(ctx, srv.dir, o.drainTimeout); err != nil {
		return err
	}
	res.drain = time.Since(sendEnd)
	if o.probes > 0 {
		// Measured with Chatwoot healthy unless asked: its faults delay an
		// event by design (retries with backoff), and what is measured is
		// whether poison delays ordinary messages.
		if !o.measureFaults {
			fake.setFaults(0, 0)
		}
		fmt.Fprintf(os.Stderr, "chaos: measuring: %d messages at %.0f/s with %.1f poison events each\n", o.probes, o.probeRate, o.probePoison)
		if res.measured, err = measure(ctx, o, addr, l, &events, poisoner, rng); err != nil {
			return err
		}
		drained, err := waitDrained(ctx, srv.dir, o.drainTimeout)
		if err != nil {
			return err
		}
		res.drained = res.drained && drained
	}
	if res.counters, err = counters(client, addr); err != nil {
		return err
	}
	srv.stop()

	res.dupLabels, res.dupNotes, res.dupPriority = fake.duplicates()
	res.dupDrafts, err = duplicateDrafts(ctx, filepath.Join(srv.dir, "drafts.db"))
	if err != nil {
		return err
	}
	v, err := outcomes(ctx, srv.dir, events, l)
	if err != nil {
		return err
	}
	res.tally(events, l, v)
	res.fake = fake.summary()
	err = report(o, res)
	// A failed run's data and log are what explain it.
	failed = err != nil
	return err
}

// largeBodies are the corpus's bodies over SQS's limit: long emails as
// Chatwoot sends them.
func largeBodies() ([][]byte, error) {
	dir := chatwoottest.Dir()
	entries, err := chatwoottest.Manifest(dir)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, e := range entries {
		if e.Bytes <= queue.MaxMessageSize {
			continue
		}
		raw, err := chatwoottest.ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			return nil, err
		}
		out = append(out, raw)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no body over %d bytes in %s", queue.MaxMessageSize, dir)
	}
	return out, nil
}

// reply is what a POST got back.
type reply struct {
	code    int // 0: no answer
	spooled bool
	at      time.Time     // when the answer arrived
	took    time.Duration // from the request's start
}

func (r reply) acked() bool { return r.code >= 200 && r.code < 300 }

func post(ctx context.Context, c *http.Client, addr string, s traffic.Send) reply {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/webhooks/chatwoot", bytes.NewReader(s.Body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Chatwoot-Delivery", s.Delivery)
	req.Header.Set("X-Chatwoot-Timestamp", ts)
	req.Header.Set("X-Chatwoot-Signature", chatwoot.Sign([]byte(secret), ts, s.Body))
	start := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return reply{}
	}
	r := reply{code: resp.StatusCode, at: time.Now()}
	r.took = r.at.Sub(start)
	var body struct {
		Spooled bool `json:"spooled"`
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if json.Unmarshal(b, &body) == nil {
		r.spooled = body.Spooled
	}
	return r
}

// ledger is what the senders saw, per event.
type ledger struct {
	mu                                 sync.Mutex
	delivery                           map[string]int // delivery id → event
	sent, acked, rejected, unreachable int64
	spooledAcks                        int64
	sentIDs, ackedIDs, spooledIDs      map[int]bool
	// The slowest acknowledgements, of bodies up to 1 MiB and over it,
	// and how many of the large ones were sent and acknowledged: Chatwoot
	// gives up after 5 s.
	slowest, slowestLarge time.Duration
	largeSent, largeAcked int
}

func newLedger() *ledger {
	return &ledger{delivery: map[string]int{}, sentIDs: map[int]bool{}, ackedIDs: map[int]bool{}, spooledIDs: map[int]bool{}}
}

func (l *ledger) record(s traffic.Send, r reply) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent++
	l.delivery[s.Delivery] = s.Event
	l.sentIDs[s.Event] = true
	large := len(s.Body) > queue.MaxMessageSize
	if large {
		l.largeSent++
	}
	switch {
	case r.acked():
		l.acked++
		l.ackedIDs[s.Event] = true
		if large {
			l.largeAcked++
			l.slowestLarge = max(l.slowestLarge, r.took)
		} else {
			l.slowest = max(l.slowest, r.took)
		}
		if r.spooled {
			l.spooledAcks++
			l.spooledIDs[s.Event] = true
		}
	case r.code == 0:
		l.unreachable++
	default:
		l.rejected++
	}
}
