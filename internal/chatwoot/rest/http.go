package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"supportpipe/internal/support/runes"
)

// Defaults of Options.
const (
	DefaultTimeout       = 10 * time.Second
	DefaultMaxAttempts   = 3
	DefaultMaxRetryAfter = 30 * time.Second
	// Chatwoot's rack-attack allows 3000 requests/min per IP by default;
	// one client stays at 80 % of that. Several processes behind one IP
	// (Lambda instances behind a NAT) must share it: set RatePerMinute.
	DefaultRatePerMinute = 2400
	DefaultBurst         = 50
)

// DefaultBackoff is the wait before the second, third and later attempts.
var DefaultBackoff = []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second}

const (
	userAgent = "supportpipe"
	// maxResponse bounds a response body; updated_within lists are unpaginated.
	maxResponse = 16 << 20
	// maxErrorMessage bounds the Chatwoot message carried by an Error.
	maxErrorMessage = 200
	// messagesPage is how many messages Chatwoot's MessageFinder returns per
	// request; a shorter page is the oldest one.
	messagesPage = 20
	// maxMessagePages bounds paging through one conversation's history.
	maxMessagePages = 50
)

// Options tune an HTTPClient. The zero value gives the defaults.
type Options struct {
	// Transport carries the requests; nil means http.DefaultTransport.
	Transport http.RoundTripper
	// Timeout bounds each attempt, including reading the response.
	Timeout time.Duration
	// MaxAttempts counts the first try.
	MaxAttempts int
	// Backoff[i] is the wait after the (i+1)th failed attempt; the last entry
	// repeats. Up to a fifth is added as jitter so that clients that failed
	// together do not retry together.
	Backoff []time.Duration
	// MaxRetryAfter caps a wait Chatwoot asks for with Retry-After.
	MaxRetryAfter time.Duration
	// RatePerMinute and Burst shape the client-side token bucket that keeps
	// reconciliation within Chatwoot's limits. A negative RatePerMinute
	// disables it.
	RatePerMinute float64
	Burst         int
	// Sleep waits d or until ctx is done, returning ctx.Err() then. Now reads
	// the clock. Tests replace both so that nothing really waits.
	Sleep func(ctx context.Context, d time.Duration) error
	Now   func() time.Time
}

// HTTPClient is the Client for Chatwoot's REST API. It is safe for
// concurrent use.
type HTTPClient struct {
	base  string
	token string
	hc    *http.Client
	o     Options
	limit *bucket // nil when rate limiting is off
	// labelLocks serialise read-merge-write label updates of one
	// conversation within this process (striped, so memory stays fixed).
	labelLocks [1024]sync.Mutex
}

var _ Client = (*HTTPClient)(nil)

// NewHTTPClient returns a client for the Chatwoot instance at baseURL
// (e.g. https://chat.example.com) authenticating with an administrator's
// access token.
func NewHTTPClient(baseURL, token string, o Options) (*HTTPClient, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, errors.New("chatwoot api: base URL must be an absolute http(s) URL")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, errors.New("chatwoot api: base URL must not carry credentials, a query or a fragment")
	}
	if strings.TrimSpace(token) == "" {
		return nil, errors.New("chatwoot api: empty access token")
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if len(o.Backoff) == 0 {
		o.Backoff = DefaultBackoff
	}
	if o.MaxRetryAfter <= 0 {
		o.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if o.RatePerMinute == 0 {
		o.RatePerMinute = DefaultRatePerMinute
	}
	if o.Burst <= 0 {
		o.Burst = DefaultBurst
	}
	if o.Sleep == nil {
		o.Sleep = sleep
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	c := &HTTPClient{
		base:  strings.TrimSuffix(u.String(), "/"),
		token: token,
		o:     o,
		hc: &http.Client{
			Transport: o.Transport,
			// The token travels in a custom header, which net/http does not
			// strip on redirects to other hosts. Never follow one.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}
	if o.RatePerMinute > 0 {
		c.limit = newBucket(o.RatePerMinute/60, o.Burst, o.Now, o.Sleep)
	}
	return c, nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Error is a non-2xx response. It holds what Chatwoot answered, never the
// request body or the token.
type Error struct {
	Method     string
	Path       string // without the query
	StatusCode int
	// Message is Chatwoot's "error" or "message" field, shortened.
	Message string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("chatwoot api: %s %s: %d %s", e.Method, e.Path, e.StatusCode, http.StatusText(e.StatusCode))
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Temporary reports a status worth retrying: throttling and server errors.
func (e *Error) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// request is one REST call.
type request struct {
	method string
	path   string
	query  url.Values
	body   any // JSON-encoded when non-nil
	out    any // decoded from a 2xx response when non-nil
	// verify, when set, marks a call that must not be repeated when
	// Chatwoot may have acted on it (posting a note twice adds two notes):
	// after a failure that may have come after Chatwoot acted, it reports
	// whether the call took effect, and the call is repeated only if not.
	verify func(ctx context.Context) (bool, error)
	// raw, when non-nil, receives the 2xx body undecoded.
	raw *[]byte
}

// do performs r, retrying temporary failures.
func (c *HTTPClient) do(ctx context.Context, r request) error {
	var body []byte
	if r.body != nil {
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("chatwoot api: %s %s: encode request: %w", r.method, r.path, err)
		}
	}
	for attempt := 1; ; attempt++ {
		if c.limit != nil {
			if err := c.limit.wait(ctx); err != nil {
				return fmt.Errorf("chatwoot api: %s %s: rate limit wait: %w", r.method, r.path, err)
			}
		}
		retryAfter, fail, err := c.attempt(ctx, r, body)
		if err == nil {
			return nil
		}
		if attempt > 1 {
			err = fmt.Errorf("%w (attempt %d of %d)", err, attempt, c.o.MaxAttempts)
		}
		// After an ambiguous failure a verified call looks before it is
		// repeated, and after its last attempt too: what it finds decides.
		check := fail == ambiguous && r.verify != nil
		last := attempt >= c.o.MaxAttempts
		if fail == final || ctx.Err() != nil || (last && !check) {
			return err
		}
		wait := c.backoff(attempt)
		if retryAfter >= 0 {
			wait = min(retryAfter, c.o.MaxRetryAfter)
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			return err // the caller's deadline would pass while waiting
		}
		// Before a look, the wait also gives a request Chatwoot is still
		// handling the time to finish.
		if werr := c.o.Sleep(ctx, wait); werr != nil {
			return fmt.Errorf("%w (not retried: %w)", err, werr)
		}
		if !check {
			continue
		}
		done, verr := r.verify(ctx)
		switch {
		case verr != nil:
			return fmt.Errorf("%w (not retried: whether it took effect is unknown: %w)", err, verr)
		case done:
			return nil
		case last:
			return err
		}
	}
}

// failure says whether another attempt may follow a failed one.
type failure int

const (
	// final: repeating cannot help (a 4xx, an unusable answer).
	final failure = iota
	// retryable: Chatwoot did not act (throttled, or the request never
	// left), so repeating is safe.
	retryable
	// ambiguous: Chatwoot may have acted (a 5xx, a timeout, a connection
	// lost after the request was sent): safe to repeat a call that
	// converges, and a verified one once its verify found no effect.
	ambiguous
)

// backoff is the jittered wait after failed attempt n (1-based).
func (c *HTTPClient) backoff(n int) time.Duration {
	d := c.o.Backoff[min(n-1, len(c.o.Backoff)-1)]
	if d <= 0 {
		return 0
	}
	return d + rand.N(d/5+1)
}

// attempt sends r once. retryAfter is the wait Chatwoot asked for, or -1;
// fail says whether another attempt may follow, and on what condition.
func (c *HTTPClient) attempt(ctx context.Context, r request, body []byte) (time.Duration, failure, error) {
	ctx, cancel := context.WithTimeout(ctx, c.o.Timeout)
	defer cancel()
	target := c.base + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, rd)
	if err != nil {
		return -1, final, fmt.Errorf("chatwoot api: %s %s: %w", r.method, r.path, err)
	}
	// Set the key verbatim: Chatwoot documents api_access_token, and Header.Set
	// would rewrite it to Api_access_token.
	req.Header["api_access_token"] = []string{c.token}
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		// A request that never left (refused connection, failed DNS lookup)
		// is safe to repeat even when Chatwoot must not act twice.
		fail := ambiguous
		if notSent(err) {
			fail = retryable
		}
		return -1, fail, fmt.Errorf("chatwoot api: %s %s: %w", r.method, r.path, unwrapURL(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return -1, ambiguous, fmt.Errorf("chatwoot api: %s %s: read response: %w", r.method, r.path, unwrapURL(err))
	}
	if len(data) > maxResponse {
		return -1, final, fmt.Errorf("chatwoot api: %s %s: response larger than %d bytes", r.method, r.path, maxResponse)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &Error{Method: r.method, Path: r.path, StatusCode: resp.StatusCode, Message: c.message(data)}
		// Rack-attack rejects before the app runs, so a 429 is always safe
		// to repeat; a 5xx may come after Chatwoot acted.
		switch {
		case e.StatusCode == http.StatusTooManyRequests:
			return parseRetryAfter(resp.Header.Get("Retry-After"), c.o.Now()), retryable, e
		case e.Temporary():
			return parseRetryAfter(resp.Header.Get("Retry-After"), c.o.Now()), ambiguous, e
		}
		return -1, final, e
	}
	if r.raw != nil {
		*r.raw = data
	}
	if r.out != nil {
		if err := json.Unmarshal(data, r.out); err != nil {
			return -1, final, fmt.Errorf("chatwoot api: %s %s: decode response: %w", r.method, r.path, err)
		}
	}
	return -1, final, nil
}

// notSent reports a transport error raised before the request was written.
func notSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// unwrapURL drops net/http's *url.Error wrapper, which repeats the full URL
// that the caller's message already names by path.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// message extracts Chatwoot's error text ({"error":…} or {"message":…}),
// shortened to one line. Anything else (rack-attack's plain-text 429, a
// proxy's HTML page) is dropped: the status says enough.
func (c *HTTPClient) message(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message json.RawMessage `json:"message"`
	}
	if json.Unmarshal(body, &v) != nil {
		return ""
	}
	var s string
	if json.Unmarshal(v.Error, &s) != nil || s == "" {
		if json.Unmarshal(v.Message, &s) != nil {
			return ""
		}
	}
	// A misconfigured proxy could echo request headers; never pass the token on.
	s = strings.ReplaceAll(s, c.token, "[redacted]")
	return runes.Truncate(strings.Join(strings.Fields(s), " "), maxErrorMessage)
}

// parseRetryAfter reads delay-seconds or an HTTP date; -1 means absent or
// unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return -1
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return -1
		}
		return time.Duration(min(n, math.MaxInt64/int64(time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return -1
}
