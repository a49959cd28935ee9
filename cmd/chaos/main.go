// Command chaos drives the local server the way production would hurt it:
// thousands of signed webhooks with duplicates and Chatwoot re-emissions, a
// Chatwoot API that fails, rate-limits and hangs, and kill -9 mid-run. It
// prints what was sent, acknowledged, processed, dead-lettered and lost, and
// every effect applied twice. `make chaos` runs it; it is not part of `make test`.
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
	"supportpipe/internal/queue/sqlitequeue"
	"supportpipe/internal/store/sqlitestore"
	"supportpipe/internal/traffic"
)

const (
	secret = "chaos-secret"
	token  = "chaos-api-token"
)

type options struct {
	n, kills, concurrency int
	dup, reemit           float64
	fault, hang           float64
	transient             bool
	seed                  uint64
	drainTimeout          time.Duration
	out                   string
}

func main() {
	var o options
	flag.IntVar(&o.n, "n", 10000, "distinct webhooks")
	flag.IntVar(&o.kills, "kills", 3, "kill -9 and restart the server this many times mid-run")
	flag.IntVar(&o.concurrency, "concurrency", 32, "concurrent senders")
	flag.Float64Var(&o.dup, "dup", 0.05, "share re-sent with the same delivery id")
	flag.Float64Var(&o.reemit, "reemit", 0.02, "share re-emitted by Chatwoot with a new delivery id")
	flag.Float64Var(&o.fault, "fault", 0.20, "share of Chatwoot API calls answered 500 or 429")
	flag.Float64Var(&o.hang, "hang", 0.01, "share of Chatwoot API calls that hang")
	flag.BoolVar(&o.transient, "transient", false, "only transient faults: no hangs, never 3 failures in a row")
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
	cmd                     *exec.Cmd
	log                     *os.File
}

func (s *server) start() error {
	s.cmd = exec.Command(s.bin, "serve")
	s.cmd.Env = append(os.Environ(), "SUPPORT_DATA_DIR="+s.dir, "SUPPORT_ADDR="+s.addr, "SUPPORT_REPORTS_ROOT="+s.dir,
		"CHATWOOT_WEBHOOK_SECRET="+secret, "SUPPORT_API_TOKEN="+token, "SUPPORT_LOG_LEVEL=warn",
		"CHATWOOT_LIVE=true", "CHATWOOT_BASE_URL="+s.fakeURL, "CHATWOOT_API_TOKEN=chaos-token", "CHATWOOT_ACCOUNT_ID=7")
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

type result struct {
	sent, acked, rejected, unreachable int64
	distinctAcked, distinctSeen        int
	lostEvents                         int
	processed, duplicates, deadLetter  int64
	drain                              time.Duration
	dupLabels, dupNotes, dupPriority   int
	dupDrafts, dupCounters             int
	fake                               string
}

func run(ctx context.Context, o options) error {
	work, err := os.MkdirTemp("", "chaos-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	bin := filepath.Join(work, "supportctl")
	build := exec.Command("go", "build", "-o", bin, "./cmd/supportctl")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	fake := newFake(o.fault, o.hang, o.transient, o.seed)
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
	srv := &server{bin: bin, dir: filepath.Join(work, "data"), addr: addr, fakeURL: fakeSrv.URL, log: logf}
	if err := os.MkdirAll(srv.dir, 0o700); err != nil {
		return err
	}
	if err := srv.start(); err != nil {
		return err
	}

	rng := rand.New(rand.NewPCG(o.seed, 7))
	events := traffic.Generate(o.n, rng)
	sends := traffic.Plan(events, o.dup, o.reemit, rng)
	fmt.Fprintf(os.Stderr, "chaos: %d distinct events, %d sends, %d kills, faults %.0f%% (hang %.1f%%, transient=%v)\n",
		len(events), len(sends), o.kills, 100*o.fault, 100*o.hang, o.transient)

	var res result
	var mu sync.Mutex
	ackedIDs := map[int]bool{}
	sentIDs := map[int]bool{}
	client := &http.Client{Timeout: 5 * time.Second} // Chatwoot's timeout
	jobs := make(chan traffic.Send)
	var wg sync.WaitGroup
	var sentN atomic.Int64
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range jobs {
				code := post(ctx, client, "http://"+addr+"/webhooks/chatwoot", s.Delivery, s.Body)
				sentN.Add(1)
				mu.Lock()
				res.sent++
				sentIDs[s.Event] = true
				switch {
				case code >= 200 && code < 300:
					res.acked++
					ackedIDs[s.Event] = true
				case code == 0:
					res.unreachable++
				default:
					res.rejected++
				}
				mu.Unlock()
			}
		}()
	}
	killAt := map[int]bool{}
	for k := 1; k <= o.kills; k++ {
		killAt[len(sends)*k/(o.kills+1)] = true
	}
	for i, s := range sends {
		if killAt[i] {
			srv.kill()
			fmt.Fprintf(os.Stderr, "chaos: kill -9 after %d sends\n", sentN.Load())
			if err := srv.start(); err != nil {
				return err
			}
		}
		jobs <- s
	}
	close(jobs)
	wg.Wait()
	sendEnd := time.Now()
	res.distinctAcked = len(ackedIDs)
	fmt.Fprintf(os.Stderr, "chaos: sent %d, acknowledged %d; waiting for the queue to drain\n", res.sent, res.acked)

	// Drained: the events queue (read from its file beside the running
	// server) has nothing waiting, in flight or backing off, twice in a row.
	q, err := sqlitequeue.Open(ctx, filepath.Join(srv.dir, "queue.db"), "events", sqlitequeue.Options{})
	if err != nil {
		return err
	}
	empty := 0
	for deadline := time.Now().Add(o.drainTimeout); empty < 2; time.Sleep(time.Second) {
		if d, err := q.Depth(ctx); err == nil && d.Visible+d.InFlight+d.Delayed == 0 {
			empty++
		} else {
			empty = 0
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(os.Stderr, "chaos: gave up waiting for the drain")
			break
		}
	}
	q.Close()
	res.drain = time.Since(sendEnd)
	if res.processed, res.duplicates, res.deadLetter, err = counters(client, addr); err != nil {
		return err
	}
	srv.stop()

	res.dupLabels, res.dupNotes, res.dupPriority = fake.duplicates()
	res.dupDrafts, err = duplicateDrafts(ctx, filepath.Join(srv.dir, "drafts.db"))
	if err != nil {
		return err
	}
	// Per event: an acknowledged event is either recorded as processed (its
	// content key is in the store) or waits in the DLQ; anything else is lost.
	recorded, dead, err := outcomes(ctx, srv.dir, events, sentIDs)
	if err != nil {
		return err
	}
	for id := range ackedIDs {
		if !recorded[id] && !dead[id] {
			res.lostEvents++
		}
	}
	res.distinctSeen = len(recorded)
	// The processed counter must equal the distinct events recorded: more
	// is a counter applied twice.
	res.dupCounters = max(0, int(res.processed)-res.distinctSeen)
	res.fake = fake.summary()
	return report(o, res)
}

func post(ctx context.Context, c *http.Client, url, delivery string, body []byte) int {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Chatwoot-Delivery", delivery)
	req.Header.Set("X-Chatwoot-Timestamp", ts)
	req.Header.Set("X-Chatwoot-Signature", chatwoot.Sign([]byte(secret), ts, body))
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// counters sums today's and yesterday's stats, in case the run crosses midnight UTC.
func counters(c *http.Client, addr string) (processed, duplicates, dead int64, err error) {
	now := time.Now().UTC()
	for _, day := range []string{now.Format(time.DateOnly), now.AddDate(0, 0, -1).Format(time.DateOnly)} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/support/stats?date="+day, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := c.Do(req)
		if err != nil {
			return 0, 0, 0, err
		}
		var st struct {
			Processed, Duplicates int64
			DeadLettered          int64 `json:"dead_lettered"`
		}
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err != nil {
			return 0, 0, 0, err
		}
		processed, duplicates, dead = processed+st.Processed, duplicates+st.Duplicates, dead+st.DeadLettered
	}
	return processed, duplicates, dead, nil
}

func duplicateDrafts(ctx context.Context, path string) (int, error) {
	q, err := sqlitequeue.Open(ctx, path, "drafts", sqlitequeue.Options{})
	if err != nil {
		return 0, err
	}
	defer q.Close()
	seen := map[string]int{}
	for {
		msgs, err := q.Receive(ctx, 500, time.Hour)
		if err != nil {
			return 0, err
		}
		if len(msgs) == 0 {
			break
		}
		for _, m := range msgs {
			seen[m.Attributes["request_id"]]++
		}
	}
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	return dups, nil
}

// outcomes reads the stopped server's store and DLQ: which sent events were
// recorded as processed, and which are dead letters.
func outcomes(ctx context.Context, dir string, events []traffic.Event, sent map[int]bool) (recorded, dead map[int]bool, err error) {
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "store.db"))
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	q, err := sqlitequeue.Open(ctx, filepath.Join(dir, "queue.db"), "events", sqlitequeue.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer q.Close()
	byKey := map[string]int{}
	recorded, dead = map[int]bool{}, map[int]bool{}
	for id := range sent {
		p, err := chatwoot.Decode(events[id].Body)
		if err != nil {
			return nil, nil, fmt.Errorf("event %d: %w", id, err)
		}
		key := "content:" + p.ContentKey(7, events[id].Body)
		byKey[key] = id
		seen, err := st.Seen(ctx, key)
		if err != nil {
			return nil, nil, err
		}
		if _, ok := seen[key]; ok {
			recorded[id] = true
		}
	}
	dls, err := q.ListDeadLetters(ctx, 1_000_000)
	if err != nil {
		return nil, nil, err
	}
	for _, d := range dls {
		if p, err := chatwoot.Decode(d.Body); err == nil {
			if id, ok := byKey["content:"+p.ContentKey(7, d.Body)]; ok {
				dead[id] = true
			}
		}
	}
	return recorded, dead, nil
}

func report(o options, r result) error {
	lost := r.lostEvents
	pct := 100 * float64(r.distinctSeen) / float64(max(r.distinctSeen+int(r.deadLetter), 1))
	var b bytes.Buffer
	fmt.Fprintf(&b, "| figure | value |\n|---|---:|\n")
	fmt.Fprintf(&b, "| sent (incl. %.0f%% duplicates, %.0f%% re-emits) | %d |\n", 100*o.dup, 100*o.reemit, r.sent)
	fmt.Fprintf(&b, "| acknowledged (2xx) | %d |\n", r.acked)
	fmt.Fprintf(&b, "| not acknowledged: server down (kill -9 windows) | %d |\n", r.unreachable)
	fmt.Fprintf(&b, "| not acknowledged: rejected (replayed in the same second) | %d |\n", r.rejected)
	fmt.Fprintf(&b, "| processed (first copy) | %d |\n", r.processed)
	fmt.Fprintf(&b, "| processed as duplicate | %d |\n", r.duplicates)
	fmt.Fprintf(&b, "| dead-lettered | %d |\n", r.deadLetter)
	fmt.Fprintf(&b, "| distinct events acknowledged / recorded as processed | %d / %d |\n", r.distinctAcked, r.distinctSeen)
	fmt.Fprintf(&b, "| **lost** (acknowledged, neither processed nor dead-lettered; checked per event) | **%d** |\n", lost)
	fmt.Fprintf(&b, "| processed without the DLQ | %.3f %% |\n", pct)
	fmt.Fprintf(&b, "| duplicate effects: labels / notes / priority / draft requests / counters | %d / %d / %d / %d / %d |\n",
		r.dupLabels, r.dupNotes, r.dupPriority, r.dupDrafts, r.dupCounters)
	fmt.Fprintf(&b, "| time to drain after the last send | %s |\n", r.drain.Round(time.Second))
	fmt.Fprintf(&b, "\nfake Chatwoot: %s\n", r.fake)
	fmt.Print(b.String())
	if o.out != "" {
		return os.WriteFile(o.out, b.Bytes(), 0o644)
	}
	if lost != 0 || r.dupLabels+r.dupNotes+r.dupPriority+r.dupDrafts+r.dupCounters != 0 {
		return fmt.Errorf("lost %d, duplicate effects %d", lost, r.dupLabels+r.dupNotes+r.dupPriority+r.dupDrafts+r.dupCounters)
	}
	return nil
}
