package rest

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
)

// jittered reports whether got is base plus at most a fifth of base.
func jittered(base, got time.Duration) bool {
	return got >= base && got <= base+base/5
}

func TestRetry(t *testing.T) {
	profile := func(ctx context.Context, c *HTTPClient) error { _, err := c.Profile(ctx); return err }
	note := func(ctx context.Context, c *HTTPClient) error { return c.PrivateNote(ctx, 7, 1423, "SLA risk") }
	ok := reply{status: 200, body: `{"id":1}`}
	fail := func(status int) reply { return reply{status: status, body: `{"error":"boom"}`} }
	retryAfter := func(v string) reply {
		return reply{status: 429, header: map[string]string{"Retry-After": v}, body: "Retry later\n"}
	}
	clockStart := newClock().Now()

	tests := []struct {
		name       string
		replies    []reply
		call       func(context.Context, *HTTPClient) error
		wantCalls  int
		wantWaits  []time.Duration // jittered backoff bases
		exactWaits []time.Duration // server-requested waits, no jitter
		wantStatus int             // 0: success
		wantMsg    string
	}{
		{name: "500 then success", replies: []reply{fail(500), ok}, call: profile,
			wantCalls: 2, wantWaits: []time.Duration{time.Second}},
		{name: "three 5xx exhaust the attempts", replies: []reply{fail(500), fail(502), fail(503), ok}, call: profile,
			wantCalls: 3, wantWaits: []time.Duration{time.Second, 2 * time.Second}, wantStatus: 503, wantMsg: "attempt 3 of 3"},
		{name: "success on the last attempt", replies: []reply{fail(504), fail(500), ok}, call: profile,
			wantCalls: 3, wantWaits: []time.Duration{time.Second, 2 * time.Second}},
		{name: "429 honours Retry-After seconds", replies: []reply{retryAfter("3"), ok}, call: profile,
			wantCalls: 2, exactWaits: []time.Duration{3 * time.Second}},
		{name: "429 honours Retry-After date", replies: []reply{retryAfter(clockStart.Add(5 * time.Second).Format(http.TimeFormat)), ok},
			call: profile, wantCalls: 2, exactWaits: []time.Duration{5 * time.Second}},
		{name: "Retry-After in the past retries at once", replies: []reply{retryAfter(clockStart.Add(-time.Hour).Format(http.TimeFormat)), ok},
			call: profile, wantCalls: 2, exactWaits: []time.Duration{0}},
		{name: "Retry-After is capped", replies: []reply{retryAfter("3600"), ok}, call: profile,
			wantCalls: 2, exactWaits: []time.Duration{DefaultMaxRetryAfter}},
		{name: "429 without Retry-After backs off", replies: []reply{{status: 429}, ok}, call: profile,
			wantCalls: 2, wantWaits: []time.Duration{time.Second}},
		{name: "unreadable Retry-After backs off", replies: []reply{retryAfter("soon"), ok}, call: profile,
			wantCalls: 2, wantWaits: []time.Duration{time.Second}},
		{name: "503 honours Retry-After", replies: []reply{{status: 503, header: map[string]string{"Retry-After": "2"}}, ok},
			call: profile, wantCalls: 2, exactWaits: []time.Duration{2 * time.Second}},
		{name: "422 is final", replies: []reply{{status: 422, body: `{"message":"Validation failed: Content can't be blank","attributes":["content"]}`}, ok},
			call: profile, wantCalls: 1, wantStatus: 422, wantMsg: "Validation failed: Content can't be blank"},
		{name: "401 is final", replies: []reply{{status: 401, body: `{"error":"Invalid Access Token"}`}, ok},
			call: profile, wantCalls: 1, wantStatus: 401, wantMsg: "Invalid Access Token"},
		{name: "404 is final", replies: []reply{{status: 404, body: `{"error":"Resource could not be found"}`}, ok},
			call: profile, wantCalls: 1, wantStatus: 404, wantMsg: "Resource could not be found"},
		{name: "note is repeated after a 429", replies: []reply{retryAfter("1"), ok}, call: note,
			wantCalls: 2, exactWaits: []time.Duration{time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t, inOrder(tt.replies...))
			clk := newClock()
			err := tt.call(t.Context(), newTestClient(t, srv.URL, clk, Options{}))
			assert.Len(t, f.requests(), tt.wantCalls)
			waits := clk.slept()
			if tt.exactWaits != nil {
				assert.Equal(t, tt.exactWaits, waits)
			} else {
				require.Len(t, waits, len(tt.wantWaits))
				for i, base := range tt.wantWaits {
					assert.True(t, jittered(base, waits[i]), "wait %d = %v, want %v plus up to 20%%", i, waits[i], base)
				}
			}
			if tt.wantStatus == 0 {
				require.NoError(t, err)
				return
			}
			var e *Error
			require.ErrorAs(t, err, &e)
			assert.Equal(t, tt.wantStatus, e.StatusCode)
			assert.Contains(t, err.Error(), tt.wantMsg)
		})
	}
}

func TestJitterVaries(t *testing.T) {
	c, err := NewHTTPClient("https://chat.example.com", testToken, Options{})
	require.NoError(t, err)
	seen := map[time.Duration]bool{}
	for range 50 {
		d := c.backoff(2)
		assert.True(t, jittered(2*time.Second, d), "%v", d)
		seen[d] = true
	}
	assert.Greater(t, len(seen), 1, "backoff is jittered")
	assert.True(t, jittered(4*time.Second, c.backoff(9)), "the last backoff repeats")
}

// failing returns a transport whose first n round trips fail with err.
func failing(n int, err error) (http.RoundTripper, *atomic.Int32) {
	var calls atomic.Int32
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if calls.Add(1) <= int32(n) {
			return nil, err
		}
		return http.DefaultTransport.RoundTrip(r)
	}), &calls
}

func TestNetworkErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	reset := &net.OpError{Op: "read", Net: "tcp", Err: errors.New("connection reset by peer")}
	tests := []struct {
		name      string
		err       error
		fails     int
		note      bool
		wantCalls int32
		wantErr   bool
	}{
		{name: "refused then success", err: refused, fails: 1, wantCalls: 2},
		{name: "reset then success", err: reset, fails: 2, wantCalls: 3},
		{name: "refused on every attempt", err: refused, fails: 5, wantCalls: 3, wantErr: true},
		{name: "note retried when the connection never opened", err: refused, fails: 1, note: true, wantCalls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFake(t, inOrder(reply{status: 200, body: `{"payload":[]}`}))
			rt, calls := failing(tt.fails, tt.err)
			c := newTestClient(t, srv.URL, newClock(), Options{Transport: rt})
			var err error
			if tt.note {
				err = c.PrivateNote(t.Context(), 7, 1, "x")
			} else {
				_, err = c.Labels(t.Context(), 7, 1)
			}
			assert.Equal(t, tt.wantCalls, calls.Load())
			if tt.wantErr {
				assert.ErrorIs(t, err, tt.err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}

func TestClosedServerIsRetried(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	clk := newClock()
	_, err := newTestClient(t, url, clk, Options{}).Labels(t.Context(), 7, 1)
	require.Error(t, err)
	assert.Len(t, clk.slept(), 2, "three attempts")
	assert.Contains(t, err.Error(), "GET /api/v1/accounts/7/conversations/1/labels")
}

func TestAttemptTimeout(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			<-r.Context().Done() // hang until the client gives up
			return
		}
		io.WriteString(w, `{"payload":["vip"]}`)
	}))
	t.Cleanup(srv.Close)
	// Attempts enough that the answer gets through however many more of
	// them a busy machine takes past 50 ms.
	got, err := newTestClient(t, srv.URL, newClock(), Options{Timeout: 50 * time.Millisecond, MaxAttempts: 100}).Labels(t.Context(), 7, 1)
	require.NoError(t, err)
	assert.Equal(t, []string{"vip"}, got)
	assert.GreaterOrEqual(t, calls.Load(), int32(2), "the hung attempt is given up and retried")
}

func TestCancelStopsRetrying(t *testing.T) {
	f, srv := newFake(t, inOrder(reply{status: 500}))
	ctx, cancel := context.WithCancel(t.Context())
	clk := newClock()
	clk.onSleep = cancel
	_, err := newTestClient(t, srv.URL, clk, Options{}).Labels(ctx, 7, 1)
	assert.ErrorIs(t, err, context.Canceled)
	var e *Error
	assert.ErrorAs(t, err, &e, "the last response is kept")
	assert.Len(t, f.requests(), 1)
	assert.Len(t, clk.slept(), 1)
}

func TestCancelledBeforeStart(t *testing.T) {
	f, srv := newFake(t, inOrder(reply{status: 200, body: `{}`}))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	clk := newClock()
	_, err := newTestClient(t, srv.URL, clk, Options{}).Profile(ctx)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, f.requests())
	assert.Empty(t, clk.slept())
}

func TestDeadlineTooCloseToWait(t *testing.T) {
	f, srv := newFake(t, inOrder(reply{status: 500}))
	// A deadline the attempt meets however slow the machine, and a backoff
	// that cannot fit in it.
	ctx, cancel := context.WithTimeout(t.Context(), waitfor.Hang)
	defer cancel()
	clk := newClock()
	_, err := newTestClient(t, srv.URL, clk, Options{Backoff: []time.Duration{time.Hour}}).Profile(ctx)
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Len(t, f.requests(), 1)
	assert.Empty(t, clk.slept(), "an hour's backoff cannot fit in the deadline")
}

func TestRedirectIsNotFollowed(t *testing.T) {
	var leaked atomic.Bool
	other := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { leaked.Store(true) }))
	t.Cleanup(other.Close)
	_, srv := newFake(t, inOrder(reply{status: 302, header: map[string]string{"Location": other.URL + "/api/v1/profile"}}))
	_, err := newTestClient(t, srv.URL, newClock(), Options{}).Profile(t.Context())
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, 302, e.StatusCode)
	assert.False(t, leaked.Load(), "the token must not follow a redirect")
}

func TestErrorsNeverCarryTokenOrBody(t *testing.T) {
	const secret = "customer wrote: my card is 4111 1111"
	echo := reply{status: 422, body: `{"message":"bad header api_access_token=` + testToken + `"}`}
	tests := []struct {
		name  string
		serve func(int, *http.Request) reply
		rt    http.RoundTripper
	}{
		{name: "echoed token", serve: inOrder(echo)},
		{name: "exhausted 500s", serve: inOrder(reply{status: 500, body: `{"error":"internal"}`})},
		{name: "401", serve: inOrder(reply{status: 401, body: `{"error":"Invalid Access Token"}`})},
		{name: "html error page", serve: inOrder(reply{status: 502, body: "<html>" + testToken + "</html>"})},
		{name: "network error", serve: inOrder(reply{status: 200}),
			rt: roundTripFunc(func(*http.Request) (*http.Response, error) { return nil, io.ErrUnexpectedEOF })},
		{name: "malformed response", serve: inOrder(reply{status: 200, body: `{"id":"` + testToken})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv := newFake(t, tt.serve)
			c := newTestClient(t, srv.URL, newClock(), Options{Transport: tt.rt})
			_, err := c.Profile(t.Context())
			require.Error(t, err)
			assert.NotContains(t, err.Error(), testToken)
			// A note that fails must not quote itself either.
			if err := c.PrivateNote(t.Context(), 7, 1, secret); err != nil {
				assert.NotContains(t, err.Error(), testToken)
				assert.NotContains(t, err.Error(), "4111")
			}
		})
	}
}

func TestErrorMessageIsShortened(t *testing.T) {
	long := strings.Repeat("é", 300)
	_, srv := newFake(t, inOrder(reply{status: 422, body: `{"error":"` + long + "\\nsecond line" + `"}`}))
	_, err := newTestClient(t, srv.URL, newClock(), Options{}).Profile(t.Context())
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.LessOrEqual(t, len(e.Message), maxErrorMessage+len("…"))
	assert.NotContains(t, e.Message, "\n")
	assert.True(t, strings.HasSuffix(e.Message, "…"))
}

func TestDefaultSleep(t *testing.T) {
	require.NoError(t, sleep(t.Context(), time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	done := make(chan error, 1)
	go func() { done <- sleep(ctx, time.Hour) }()
	assert.ErrorIs(t, waitfor.Chan(t, done, "an hour's sleep returns once its context is done"), context.Canceled)
}

func TestOversizedResponse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, `{"payload":[`)
		io.Copy(w, io.LimitReader(neverEnding(' '), maxResponse))
		io.WriteString(w, `]}`)
	}))
	t.Cleanup(srv.Close)
	clk := newClock()
	_, err := newTestClient(t, srv.URL, clk, Options{}).Labels(t.Context(), 7, 1)
	assert.ErrorContains(t, err, "response larger than")
	assert.Empty(t, clk.slept(), "not retried")
}

type neverEnding byte

func (b neverEnding) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(b)
	}
	return len(p), nil
}
