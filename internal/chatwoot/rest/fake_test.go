package rest

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
)

const testToken = "tok-3f9a7c1e-never-print-me"

// reply is one canned response of the fake Chatwoot.
type reply struct {
	status int
	header map[string]string
	body   string
}

// seen is one request the fake Chatwoot received.
type seen struct {
	method, uri, body                 string
	token, agent, accept, contentType string
}

// fakeChatwoot serves replies in order and records requests.
type fakeChatwoot struct {
	serve func(n int, r *http.Request) reply

	mu   sync.Mutex
	reqs []seen
}

// inOrder serves rs one after another; the last repeats.
func inOrder(rs ...reply) func(int, *http.Request) reply {
	return func(n int, _ *http.Request) reply { return rs[min(n, len(rs)-1)] }
}

func newFake(t *testing.T, serve func(int, *http.Request) reply) (*fakeChatwoot, *httptest.Server) {
	t.Helper()
	f := &fakeChatwoot{serve: serve}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		n := len(f.reqs)
		f.reqs = append(f.reqs, seen{
			method: r.Method, uri: r.URL.RequestURI(), body: string(b),
			token: r.Header.Get("api_access_token"), agent: r.UserAgent(),
			accept: r.Header.Get("Accept"), contentType: r.Header.Get("Content-Type"),
		})
		f.mu.Unlock()
		rep := f.serve(n, r)
		for k, v := range rep.header {
			w.Header().Set(k, v)
		}
		if rep.body != "" {
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
		}
		w.WriteHeader(rep.status)
		io.WriteString(w, rep.body)
	}))
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeChatwoot) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.reqs...)
}

// fakeClock records sleeps and advances instead of waiting.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits []time.Duration
	// onSleep, when set, runs before each sleep returns (e.g. to cancel).
	onSleep func()
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.waits = append(c.waits, d)
	c.now = c.now.Add(d)
	hook := c.onSleep
	c.mu.Unlock()
	if hook != nil {
		hook()
	}
	return ctx.Err()
}

func (c *fakeClock) slept() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.waits...)
}

// newTestClient returns a client for srvURL with the fake clock and, unless
// o says otherwise, no rate limiting.
func newTestClient(t *testing.T, srvURL string, clk *fakeClock, o Options) *HTTPClient {
	t.Helper()
	o.Sleep, o.Now = clk.Sleep, clk.Now
	if o.Timeout == 0 {
		o.Timeout = waitfor.Hang // only a test about the attempt timeout depends on it
	}
	if o.RatePerMinute == 0 {
		o.RatePerMinute = -1
	}
	c, err := NewHTTPClient(srvURL, testToken, o)
	require.NoError(t, err)
	return c
}
