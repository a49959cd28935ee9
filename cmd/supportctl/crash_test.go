package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/proctest"
	"supportpipe/internal/devtools/waitfor"
)

// TestKillDuringBurst acknowledges a burst of webhooks, kill -9s the server in
// the middle of it, restarts it on the same data dir and expects every
// acknowledged event to be processed. This is the promise to a sender that
// never retries: a 202 means durable. The worker process that serve runs the
// processor in dies with it.
func TestKillDuringBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "supportctl")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	require.NoError(t, build.Run())

	dir := t.TempDir()
	addr := freeAddr(t)
	const secret, token = "crash-secret", "crash-token"
	// The reports root too: the server writes a missing day's report at
	// start, which would otherwise land in this package's folder.
	env := append(os.Environ(), "SUPPORT_DATA_DIR="+dir, "SUPPORT_REPORTS_ROOT="+dir, "SUPPORT_ADDR="+addr,
		"CHATWOOT_WEBHOOK_SECRET="+secret, "SUPPORT_API_TOKEN="+token, "SUPPORT_LOG_LEVEL=error")
	srv := startServer(t, bin, env, addr)
	// The worker starts after the server listens, at the lowest CPU
	// priority: on a busy machine that can be long after.
	worker := srv.worker(t)

	const n = 400
	var mu sync.Mutex
	acked := map[int]bool{}
	third := make(chan struct{}) // closed by the acknowledgement that makes n/3
	// A client that gives up only on a hung server: an answer that takes
	// long on a loaded machine is still an acknowledgement to check.
	client := &http.Client{Timeout: waitfor.Hang}
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range jobs {
				if status, _, err := post(context.Background(), client, "http://"+addr+"/webhooks/chatwoot", []byte(secret), fmt.Sprintf("crash-%d", i), burstBody(i)); err == nil && status == http.StatusAccepted {
					mu.Lock()
					acked[i] = true
					if len(acked) == n/3 {
						close(third)
					}
					mu.Unlock()
				}
			}
		})
	}
	var workerAtKill bool
	var killErr error
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		<-third
		workerAtKill = running(worker)
		killErr = srv.kill()
	}()
	for i := range n {
		// The second half waits for the kill, so that the kill falls inside
		// the burst however the goroutines are scheduled.
		if i == n/2 {
			waitfor.Chan(t, killed, "a third of the burst acknowledged (%s of %d)", func() string {
				mu.Lock()
				defer mu.Unlock()
				return strconv.Itoa(len(acked))
			}, n)
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	require.NoError(t, killErr, "kill -9")
	assert.True(t, workerAtKill, "serve runs the processor in worker process %d until it is killed", worker)
	waitfor.Until(t, func() bool { return !running(worker) }, "worker %d dies with the server", worker)
	require.GreaterOrEqual(t, len(acked), n/3)
	t.Logf("acknowledged %d of %d before and around the kill", len(acked), n)

	startServer(t, bin, env, addr)
	unseen := maps.Clone(acked)
	waitfor.Until(t, func() bool {
		for i := range unseen {
			if getStatus(client, addr, token, fmt.Sprintf("/support/conversations/7/%d", 10000+i)) == http.StatusOK {
				delete(unseen, i)
			}
		}
		return len(unseen) == 0
	}, "acknowledged events processed after the restart; never processed: %s", func() string {
		return fmt.Sprint(slices.Sorted(maps.Keys(unseen)))
	})
}

// server is a supportctl serve process.
type server struct {
	cmd    *exec.Cmd
	stderr bytes.Buffer  // read only once exited is closed
	exited chan struct{} // closed once it has exited and been reaped
	err    error
}

// startServer starts supportctl serve and waits until it listens on addr.
// The server is stopped (SIGTERM) when the test ends.
func startServer(t *testing.T, bin string, env []string, addr string) *server {
	t.Helper()
	s := &server{cmd: exec.Command(bin, "serve"), exited: make(chan struct{})}
	s.cmd.Env = env
	s.cmd.Stderr = &s.stderr
	require.NoError(t, s.cmd.Start())
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(waitfor.Hang):
			t.Errorf("supportctl serve did not stop within %v of SIGTERM", waitfor.Hang)
			_ = s.kill()
		}
		if t.Failed() {
			t.Logf("supportctl serve output:\n%s", s.stderr.String())
		}
	})
	waitfor.Until(t, func() bool {
		s.requireRunning(t)
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
		}
		return err == nil
	}, "supportctl serve listens on %s", addr)
	return s
}

// worker waits until the server has started its worker process, and
// returns its pid.
func (s *server) worker(t *testing.T) int {
	t.Helper()
	var pid int
	waitfor.Until(t, func() bool {
		s.requireRunning(t)
		for _, c := range proctest.Children(s.cmd.Process.Pid) {
			// A child still between its fork and its exec is not the worker yet.
			if args := proctest.Command(c); len(args) == 2 && args[1] == "worker" {
				pid = c
				return true
			}
		}
		return false
	}, "serve runs the processor in a worker process (its children: %s)", func() string {
		return fmt.Sprint(proctest.Children(s.cmd.Process.Pid))
	})
	return pid
}

// requireRunning fails the test at once if the server has exited.
func (s *server) requireRunning(t *testing.T) {
	t.Helper()
	select {
	case <-s.exited:
		require.FailNow(t, "supportctl serve exited", "%v; output:\n%s", s.err, s.stderr.String())
	default:
	}
}

// kill kill -9s the server and waits until it is reaped.
func (s *server) kill() error {
	err := s.cmd.Process.Signal(syscall.SIGKILL)
	<-s.exited
	return err
}

// running says whether pid is a live process (not gone, not a zombie).
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

func burstBody(i int) []byte {
	return []byte(fmt.Sprintf(`{"event":"message_created","id":%d,"content":"order %d","message_type":"incoming",`+
		`"created_at":"2026-05-12T09:14:27.512Z","private":false,"account":{"id":7,"name":"N"},`+
		`"conversation":{"id":%d,"inbox_id":4,"status":"open","labels":[],"updated_at":1778577267.6}}`, 900000+i, i, 10000+i))
}

func getStatus(c *http.Client, addr, token, path string) int {
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}
