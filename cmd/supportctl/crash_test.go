package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/proctest"
)

// TestKillDuringBurst acknowledges a burst of webhooks, kill -9s the server in
// the middle of it, restarts it on the same data dir and expects every
// acknowledged event to be processed. This is the promise to a sender that
// never retries: a 202 means durable.
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
	startServer := func() *exec.Cmd {
		cmd := exec.Command(bin, "serve")
		// The reports root too: the server writes a missing day's report at
		// start, which would otherwise land in this package's folder.
		cmd.Env = append(os.Environ(), "SUPPORT_DATA_DIR="+dir, "SUPPORT_REPORTS_ROOT="+dir, "SUPPORT_ADDR="+addr,
			"CHATWOOT_WEBHOOK_SECRET="+secret, "SUPPORT_API_TOKEN="+token, "SUPPORT_LOG_LEVEL=error")
		require.NoError(t, cmd.Start())
		require.Eventually(t, func() bool {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
			}
			return err == nil
		}, 10*time.Second, 20*time.Millisecond)
		return cmd
	}
	srv := startServer()

	const n = 400
	var mu sync.Mutex
	acked := map[int]bool{}
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	jobs := make(chan int)
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if status, _, err := post(context.Background(), client, "http://"+addr+"/webhooks/chatwoot", []byte(secret), fmt.Sprintf("crash-%d", i), burstBody(i)); err == nil && status == http.StatusAccepted {
					mu.Lock()
					acked[i] = true
					mu.Unlock()
				}
			}
		}()
	}
	killed := make(chan struct{})
	go func() {
		defer close(killed)
		for {
			mu.Lock()
			k := len(acked)
			mu.Unlock()
			if k >= n/3 {
				workers := proctest.Children(srv.Process.Pid)
				assert.NotEmpty(t, workers, "serve runs the processor in a worker process")
				require.NoError(t, srv.Process.Signal(syscall.SIGKILL))
				_, _ = srv.Process.Wait()
				for _, pid := range workers {
					assert.Eventually(t, func() bool { return !running(pid) }, 5*time.Second, 10*time.Millisecond,
						"worker %d dies with the server", pid)
				}
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	<-killed
	mu.Lock()
	ackedCount := len(acked)
	mu.Unlock()
	require.Greater(t, ackedCount, n/3-1)
	t.Logf("acknowledged %d of %d before and around the kill", ackedCount, n)

	srv = startServer()
	defer func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		_, _ = srv.Process.Wait()
	}()
	missing := func() []int {
		var out []int
		for i := range acked {
			if getStatus(client, addr, token, fmt.Sprintf("/support/conversations/7/%d", 10000+i)) != 200 {
				out = append(out, i)
			}
		}
		return out
	}
	require.Eventually(t, func() bool { return len(missing()) == 0 }, 60*time.Second, 200*time.Millisecond,
		"acknowledged but never processed: %v", missing())
	assert.Empty(t, missing())
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
