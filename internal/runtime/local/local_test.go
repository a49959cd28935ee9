package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/local"
)

const secret = "local-test-secret"

// logs collects every server log line; tests check no payload leaks into it.
var logs syncBuffer

// configYAML is business hours Mon–Fri 09:00–17:00 New York, a 15 min first
// response, and VIPs marked by a contact attribute or an email domain.
var configYAML = []byte(`
business_hours:
  default:
    timezone: America/New_York
    weekly: {mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-17:00"], thu: ["09:00-17:00"], fri: ["09:00-17:00"], sat: [], sun: []}
    holidays: ["2026-12-25"]
sla:
  first_response: 15m
escalation:
  vip:
    custom_attribute: vip
    domains: ["vip-corp.example"]
`)

type server struct {
	url, token string
	s          *local.Server
}

func start(t *testing.T, opts ...func(*local.Server)) *server {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("SUPPORT_DATA_DIR", dir)
	t.Setenv("CHATWOOT_WEBHOOK_SECRET", secret)
	t.Setenv("SUPPORT_API_TOKEN", "")
	cfg, err := local.LoadConfig()
	require.NoError(t, err)
	require.Contains(t, cfg.Generated, "SUPPORT_API_TOKEN", "an unset token is generated")
	persisted, err := os.ReadFile(filepath.Join(dir, "support_api_token"))
	require.NoError(t, err)
	assert.Equal(t, cfg.APIToken+"\n", string(persisted))

	cfg.ReportsRoot = t.TempDir()
	conf, err := config.Parse(configYAML)
	require.NoError(t, err)
	cls, err := local.NewClassifiers(conf)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := local.Open(ctx, withFile(cfg, conf), cls, slog.New(slog.NewJSONHandler(&logs, nil)))
	require.NoError(t, err)
	s.JobEvery = time.Hour // tests run the jobs themselves
	for _, o := range opts {
		o(s)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		s.Close()
	})
	return &server{url: "http://" + ln.Addr().String(), token: cfg.APIToken, s: s}
}

func (s *server) post(t *testing.T, body []byte, delivery string) int {
	t.Helper()
	return s.postSigned(t, body, delivery, secret)
}

func (s *server) postSigned(t *testing.T, body []byte, delivery, secret string) int {
	t.Helper()
	return s.postAt(t, body, delivery, secret, s.s.Now().Unix()) // the server's clock, which tests may move
}

// postAt signs with timestamp ts: sent twice, it is the same request.
func (s *server) postAt(t *testing.T, body []byte, delivery, secret string, unix int64) int {
	t.Helper()
	ts := strconv.FormatInt(unix, 10)
	req, _ := http.NewRequest(http.MethodPost, s.url+"/webhooks/chatwoot", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Chatwoot-Delivery", delivery)
	req.Header.Set("X-Chatwoot-Timestamp", ts)
	req.Header.Set("X-Chatwoot-Signature", chatwoot.Sign([]byte(secret), ts, body))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

func (s *server) get(t *testing.T, path, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	if out != nil && resp.StatusCode == 200 {
		require.NoError(t, json.NewDecoder(resp.Body).Decode(out))
	}
	return resp.StatusCode
}

func TestEndToEnd(t *testing.T) {
	s := start(t)
	files, err := filepath.Glob("../../../testdata/chatwoot/*.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 10)
	// Every file is signed at the same second, so that the replay below is
	// the very same request whatever the clock did meanwhile.
	at := s.s.Now().Unix()
	for i, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		require.Equal(t, 202, s.postAt(t, b, "delivery-"+strconv.Itoa(i), secret, at), f)
	}
	b, _ := os.ReadFile(files[1])
	require.Equal(t, 409, s.postAt(t, b, "delivery-1", secret, at), "the same request again is a replay")
	require.Equal(t, 202, s.postAt(t, b, "delivery-1", secret, at+2), "re-signed later with the same delivery id: a duplicate, acknowledged")
	require.Equal(t, 401, s.postSigned(t, b, "x", "not-our-secret"), "a forged one is not")

	var st struct {
		Received, Accepted, Rejected, Duplicates, Ignored, Processed int64
		ProcessingMS                                                 struct{ P50, P99 float64 } `json:"processing_ms"`
	}
	waitfor.Until(t, func() bool {
		s.get(t, "/support/stats", s.token, &st)
		return st.Processed+st.Duplicates == 10 && st.Received == 13 // ingest counters flush every 200 ms
	}, "every webhook counted and processed; stats: %s", func() string { return fmt.Sprintf("%+v", st) })
	assert.Equal(t, int64(13), st.Received)
	assert.Equal(t, int64(10), st.Accepted)
	assert.Equal(t, int64(1), st.Ignored, "typing event")
	assert.Equal(t, int64(2), st.Rejected, "the replay and the forgery")
	assert.Equal(t, int64(1), st.Duplicates)
	assert.Equal(t, int64(9), st.Processed)
	assert.Greater(t, st.ProcessingMS.P99, 0.0)

	var conv struct {
		Status               string
		Labels               []string
		FirstResponseSeconds float64   `json:"first_response_seconds"`
		FirstResponseAt      time.Time `json:"first_response_at"`
	}
	require.Equal(t, 200, s.get(t, "/support/conversations/7/1423", s.token, &conv))
	assert.Equal(t, "resolved", conv.Status)
	assert.Equal(t, []string{"billing", "refund"}, conv.Labels)
	assert.Equal(t, 384.0, conv.FirstResponseSeconds, "09:14:27 → 09:20:51")
	assert.Equal(t, 404, s.get(t, "/support/conversations/7/999", s.token, nil))
	assert.Equal(t, 401, s.get(t, "/support/stats", "", nil))
	assert.Equal(t, 401, s.get(t, "/support/stats", "wrong", nil))
	assert.Equal(t, 400, s.get(t, "/support/stats?date=yesterday", s.token, nil))
	out := logs.String()
	for _, leak := range []string{secret, s.token, "priya.raman@example.net", "pubsub_token", "Rk2vW9pQ4sT7yU1xZ3aB6cD8", "charged twice"} {
		assert.NotContains(t, out, leak, "logs must carry ids, never secrets, tokens, emails or content")
	}
}

func TestOversizeIsRejectedWithoutReadingEverything(t *testing.T) {
	// The read timeout of a hung client only: this machine may take its time
	// to send what the server reads.
	s := start(t, func(s *local.Server) { s.ReadTimeout = waitfor.Hang })
	// 8 MiB of body: the server reads 5 MiB + 1 and answers 413.
	body := io.MultiReader(bytes.NewReader([]byte(`{"event":"message_created","content":"`)), io.LimitReader(zeroReader{}, 8<<20))
	req, _ := http.NewRequest(http.MethodPost, s.url+"/webhooks/chatwoot", body)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		defer resp.Body.Close()
		assert.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	}
	// The server may also close the connection mid-upload; either way nothing is queued.
	d, err := s.s.Queue.Depth(context.Background())
	require.NoError(t, err)
	assert.Zero(t, d.Visible+d.InFlight)
}

type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}
