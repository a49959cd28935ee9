package local_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/report"
	"supportpipe/internal/runtime/local"
)

type healthBody struct {
	Status string `json:"status"`
	Checks []struct {
		Name, Status, Detail string
		LatencyMS            float64 `json:"latency_ms"`
	} `json:"checks"`
	CheckedAt time.Time `json:"checked_at"`
	Cached    bool      `json:"cached"`
}

func (s *server) health(t *testing.T) (int, healthBody) {
	t.Helper()
	var h healthBody
	req, _ := http.NewRequest(http.MethodGet, s.url+"/support/health", nil)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.NoError(t, decodeJSON(resp, &h))
	return resp.StatusCode, h
}

func TestHealthCacheAndDown(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	s := start(t, func(s *local.Server) { s.Now = c.now })

	code, h := s.health(t)
	require.Equal(t, 200, code)
	assert.False(t, h.Cached)
	assert.Equal(t, "ok", h.Status)
	names := map[string]string{}
	for _, ch := range h.Checks {
		names[ch.Name] = ch.Status
	}
	assert.Equal(t, map[string]string{"chatwoot_api": "mock", "ingest": "ok", "queue": "ok", "dlq": "ok", "store": "ok", "spool": "ok"}, names)
	first := h.CheckedAt

	c.set(c.now().Add(4*time.Minute + 59*time.Second))
	code, h = s.health(t)
	assert.Equal(t, 200, code)
	assert.True(t, h.Cached, "within 5 minutes the cached result is served")
	assert.Equal(t, first, h.CheckedAt)

	// Break the store: the cached answer still says ok until the TTL passes.
	require.NoError(t, s.s.Store.Close())
	_, h = s.health(t)
	assert.Equal(t, "ok", h.Status)
	c.set(c.now().Add(2 * time.Second))
	code, h = s.health(t)
	assert.Equal(t, http.StatusServiceUnavailable, code, "down is 503")
	assert.Equal(t, "down", h.Status)
	assert.False(t, h.Cached)
	for _, ch := range h.Checks {
		if ch.Name == "store" {
			assert.Equal(t, "store read failed", ch.Detail, "no internal error text")
		}
	}
}

func TestHealthIngestQuiet(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC))
	s := start(t, func(s *local.Server) { s.Now = c.now; s.Checker.TTL = 0 })
	require.Equal(t, 202, s.post(t, messageBody(801, 80, c.now(), "hello", "a@b.example", `{}`, `[]`), "d-801"))
	waitfor.Until(t, func() bool {
		_, h := s.health(t)
		for _, ch := range h.Checks {
			if ch.Name == "ingest" && strings.HasPrefix(ch.Detail, "last webhook") {
				return true
			}
		}
		return false
	}, "the health check's ingest shows the last webhook")
	c.set(c.now().Add(2 * time.Hour)) // quiet period is 1 h
	code, h := s.health(t)
	assert.Equal(t, 200, code, "degraded is still 200")
	assert.Equal(t, "degraded", h.Status)
}

func TestQueueAlarmAndDailyReport(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	// No processor: the queue fills as it would behind a stalled consumer.
	s := start(t, func(s *local.Server) { s.Now = c.now; s.Workers = 0 })
	for i := range 60 {
		_, err := s.s.Queue.Send(context.Background(), []byte(`{"event":"x"}`), nil)
		require.NoError(t, err, i)
	}
	const alarm = `"alarm":"queue_depth","level":"alert"`
	before := strings.Count(logs.String(), alarm)
	s.s.RunJobs(context.Background())
	s.s.RunJobs(context.Background())
	assert.Equal(t, 1, strings.Count(logs.String(), alarm)-before, "one alert per crossing, not per run")
	recs, err := s.s.Store.DayRecords(context.Background(), "2026-11-23", report.AlertKind, 10)
	require.NoError(t, err)
	require.Len(t, recs, 1, "one record per crossing")
	assert.Equal(t, "2026-11-23T08:00Z:queue_depth:alert", recs[0].ID)
	key, err := s.s.WriteReport(context.Background(), "2026-11-23")
	require.NoError(t, err)
	today, err := os.ReadFile(filepath.Join(s.s.Env.ReportsRoot, key))
	require.NoError(t, err)
	assert.Contains(t, string(today), "- Queue alert at 08:00: events queue alert: 60 waiting (alert > 50, escalate > 100)\n")
	c.set(time.Date(2026, 11, 23, 9, 0, 30, 0, time.UTC))
	s.s.RunJobs(context.Background())
	path := filepath.Join(s.s.Env.ReportsRoot, "reports", "support", "2026-11-22.md")
	b, err := os.ReadFile(path)
	require.NoError(t, err, "the 09:00 run writes yesterday's report")
	assert.True(t, strings.HasPrefix(string(b), "# Support health report — 2026-11-22 (UTC)"))
	info, err := os.Stat(path)
	require.NoError(t, err)
	s.s.RunJobs(context.Background())
	again, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, info.ModTime(), again.ModTime(), "written once")
}

func decodeJSON(resp *http.Response, v any) error {
	if resp.Header.Get("Content-Type") != "application/json" {
		return errors.New("not JSON: " + resp.Header.Get("Content-Type"))
	}
	return jsonDecode(resp, v)
}
