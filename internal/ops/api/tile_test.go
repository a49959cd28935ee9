package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/apigw"
	"supportpipe/internal/devtools/tiletest"
	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/api"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/sla"
)

// The tile tests drive the real page and web component in headless Chromium
// against the real handler; UPDATE_SCREENSHOTS=1 also rewrites the
// screenshots in docs/img.

const (
	tileToken = "tile-test-token"
	hostJS    = tiletest.HostJS
	retryJS   = hostJS + `.shadowRoot.querySelector("[data-action=retry]")`
)

func TestTile(t *testing.T) {
	browser := tiletest.NewBrowser(t)

	t.Run("LoadingUntilAnswered", func(t *testing.T) {
		gate := make(chan struct{})
		release := sync.OnceFunc(func() { close(gate) })
		q := &queueStub{code: http.StatusOK, view: sampleView(), gate: gate}
		srv := newAPIServer(t, map[string]api.Route{"/support/queue": q.route()}, "")
		t.Cleanup(release) // before the server closes: a failed test must not leave a handler blocked
		tab := tiletest.NewTab(t, browser)

		tiletest.Navigate(t, tab, srv.URL+"/support/tile#token="+tileToken)
		v := tiletest.WaitState(t, tab, "loading")
		assert.Equal(t, "true", v.Busy, "aria-busy while loading")
		assert.Equal(t, "Loading the support queue…", v.Fields["status"].Text)
		assert.Empty(t, v.Fields["error-message"].Text)
		assert.False(t, v.Numbers, "no numbers before the answer")
		assert.False(t, v.Retry)
		screenshot(t, tab, "tile-loading.png")

		// A refresh tick leaves the slow request alone instead of restarting
		// it. Setting the property reflects to the attribute, as frameworks
		// that assign properties need. The ticks are counted, so that the
		// test looks once two have come, however late.
		eval(t, tab, `window.tileLoads = 0; { const host = `+hostJS+`, load = host.load.bind(host);
host.load = (...args) => { tileLoads++; return load(...args); }; }`)
		eval(t, tab, hostJS+`.refresh = 1`)
		assert.Equal(t, "1", tiletest.EvalJSON[string](t, tab, hostJS+`.getAttribute("refresh")`))
		tiletest.Poll(t, tab, `tileLoads >= 2`)
		assert.Len(t, srv.queueRequests(), 1)
		assert.Equal(t, "loading", tiletest.Read(t, tab).State)

		release()
		v = tiletest.WaitState(t, tab, "data")
		assert.Equal(t, "false", v.Busy)
		assert.Empty(t, v.Fields["status"].Text)
		assert.True(t, v.Numbers)
	})

	t.Run("NumbersFromSeededStore", func(t *testing.T) {
		now := time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC)
		s := memstore.New()
		seedQueue(t, s, now)
		route := api.QueueRoute(s, testPolicy(t), func() time.Time { return now })
		srv := newAPIServer(t, map[string]api.Route{"/support/queue": route}, "")
		tab := tiletest.NewTab(t, browser)

		tiletest.Navigate(t, tab, srv.URL+"/support/tile#token="+tileToken)
		v := tiletest.WaitState(t, tab, "data")
		assertShowsJSON(t, v, getQueue(t, srv.URL))
		texts := map[string]string{
			"pending":             "3",
			"avg_wait_seconds":    "24m 20s",
			"oldest_wait_seconds": "45m 0s",
			"compliance_pct":      "75.0%",
			"breached":            "1",
			"at_risk":             "1",
			"target_seconds":      "30m 0s",
			"generated_at":        "2:00:00 PM",
		}
		for field, want := range texts {
			assert.Equal(t, want, v.Fields[field].Text, field)
		}
		screenshot(t, tab, "tile-data.png")
	})

	t.Run("NoComplianceYet", func(t *testing.T) {
		now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
		s := memstore.New()
		addWaiting(t, s, 1, now.Add(-90*time.Second))
		route := api.QueueRoute(s, testPolicy(t), func() time.Time { return now })
		srv := newAPIServer(t, map[string]api.Route{"/support/queue": route}, "")
		tab := tiletest.NewTab(t, browser)

		tiletest.Navigate(t, tab, srv.URL+"/support/tile#token="+tileToken)
		v := tiletest.WaitState(t, tab, "data")
		served := getQueue(t, srv.URL)
		require.Nil(t, served["sla"].(map[string]any)["compliance_pct"], "the store has no SLA outcomes today")
		assertShowsJSON(t, v, served)
		assert.Equal(t, "no data yet", v.Fields["compliance_pct"].Text)
		assert.Equal(t, "1m 30s", v.Fields["oldest_wait_seconds"].Text)
	})

	t.Run("WrongTokenThenFixedFragment", func(t *testing.T) {
		q := &queueStub{code: http.StatusOK, view: sampleView()}
		srv := newAPIServer(t, map[string]api.Route{"/support/queue": q.route()}, "")
		tab := tiletest.NewTab(t, browser)

		tiletest.Navigate(t, tab, srv.URL+"/support/tile#token=wrong")
		v := tiletest.WaitState(t, tab, "error")
		assertErrorView(t, v, "Not authorised: check the tile's token.")
		screenshot(t, tab, "tile-error.png")

		// Retry asks again; the server still refuses the token.
		click(t, tab, retryJS)
		waitfor.Until(t, func() bool { return len(srv.queueRequests()) == 2 }, "Retry asks the server again")
		assertErrorView(t, tiletest.WaitState(t, tab, "error"), "Not authorised")

		// Fixing the fragment takes effect without a reload.
		eval(t, tab, `location.hash = "#token=`+tileToken+`"`)
		tiletest.WaitState(t, tab, "data")
		auth := authorizations(srv.queueRequests())
		assert.Equal(t, []string{"Bearer wrong", "Bearer wrong", "Bearer " + tileToken}, auth)
	})

	t.Run("ServerErrorThenRetry", func(t *testing.T) {
		q := &queueStub{code: http.StatusInternalServerError}
		srv := newAPIServer(t, map[string]api.Route{"/support/queue": q.route()}, "")
		tab := tiletest.NewTab(t, browser)

		tiletest.Navigate(t, tab, srv.URL+"/support/tile#token="+tileToken)
		assertErrorView(t, tiletest.WaitState(t, tab, "error"), "The server answered 500.")

		q.answer(http.StatusOK, sampleView())
		click(t, tab, retryJS)
		v := tiletest.WaitState(t, tab, "data")
		assert.False(t, v.Retry)
		assert.Empty(t, v.Fields["error-message"].Text)
		assert.Equal(t, "SECTION", tiletest.EvalJSON[string](t, tab, hostJS+`.shadowRoot.activeElement?.tagName ?? ""`),
			"focus stays in the tile when Retry hides itself")
		assertShowsJSON(t, v, getQueue(t, srv.URL))
	})

	t.Run("TokenFromFragment", func(t *testing.T) {
		q := &queueStub{code: http.StatusOK, view: sampleView()}
		srv := newAPIServer(t, map[string]api.Route{"/support/queue": q.route()}, "")
		tab := tiletest.NewTab(t, browser)

		tiletest.Navigate(t, tab, srv.URL+"/support/tile#token="+tileToken)
		tiletest.WaitState(t, tab, "data")
		reqs := srv.requests()
		require.NotEmpty(t, srv.queueRequests())
		assert.Equal(t, []string{"Bearer " + tileToken}, slices.Compact(authorizations(srv.queueRequests())))
		for _, r := range reqs {
			assert.NotContains(t, r.Path+"?"+r.RawQuery, tileToken, "the token must stay out of URLs")
			if r.Path != "/support/queue" {
				assert.Empty(t, r.Authorization, "%s needs no token", r.Path)
			}
		}
	})

	t.Run("EmbeddedCrossOriginRefreshes", func(t *testing.T) {
		q := &queueStub{code: http.StatusOK, view: sampleView()}
		dashboard := httptest.NewUnstartedServer(nil)
		origin := "http://" + dashboard.Listener.Addr().String()
		srv := newAPIServer(t, map[string]api.Route{"/support/queue": q.route()}, origin)
		page := fmt.Sprintf(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard</title>
<script type="module" src="%[1]s/support/support-queue-tile.js"></script></head>
<body><support-queue-tile endpoint="%[1]s/support/queue" token="%[2]s" refresh="1"></support-queue-tile></body></html>`,
			srv.URL, tileToken)
		dashboard.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, page)
		})
		dashboard.Start()
		t.Cleanup(dashboard.Close)
		tab := tiletest.NewTab(t, browser)

		// The attribute wins over a fragment meant for something else.
		tiletest.Navigate(t, tab, dashboard.URL+"/#token=wrong")
		v := tiletest.WaitState(t, tab, "data")
		assert.Equal(t, "4", v.Fields["pending"].Text)
		// Record the states from here on: a refresh must not flash "loading".
		eval(t, tab, `window.tileStates = [];
new MutationObserver(() => tileStates.push(`+hostJS+`.getAttribute("state")))
  .observe(`+hostJS+`, {attributes: true, attributeFilter: ["state"]})`)

		next := sampleView()
		next.Pending, next.SLA.Breached = 7, 2
		q.answer(http.StatusOK, next)
		tiletest.Poll(t, tab, hostJS+`.shadowRoot.querySelector("[data-field=pending]").dataset.value === "7"`)
		v = tiletest.Read(t, tab)
		assert.Equal(t, "2", v.Fields["breached"].Value)
		assert.NotContains(t, tiletest.EvalJSON[[]string](t, tab, `tileStates`), "loading")

		assert.Equal(t, []string{"Bearer " + tileToken}, slices.Compact(authorizations(srv.queueRequests())))
		assert.True(t, slices.ContainsFunc(srv.requests(), func(r seenRequest) bool { return r.Method == http.MethodOptions }),
			"the Authorization header makes the browser send a CORS preflight")
	})
}

func click(t *testing.T, tab context.Context, jsPath string) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab, chromedp.Click(chromedp.JSPath(jsPath))))
}

func eval(t *testing.T, tab context.Context, js string) {
	t.Helper()
	require.NoError(t, chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](js)))
}

func assertErrorView(t *testing.T, v tiletest.View, message string) {
	t.Helper()
	assert.Contains(t, v.Fields["error-message"].Text, message)
	assert.True(t, v.Retry, "Retry is offered")
	assert.False(t, v.Numbers, "no stale numbers next to an error")
	assert.Equal(t, "false", v.Busy)
	assert.Empty(t, v.Fields["status"].Text)
}

// assertShowsJSON checks that every number of the queue JSON is the
// data-value of its field, a null compliance_pct being the empty string.
func assertShowsJSON(t *testing.T, v tiletest.View, served map[string]any) {
	t.Helper()
	want := map[string]any{"generated_at": served["generated_at"]}
	for _, k := range []string{"pending", "avg_wait_seconds", "oldest_wait_seconds"} {
		want[k] = served[k]
	}
	maps.Copy(want, served["sla"].(map[string]any))
	for field, w := range want {
		got, ok := v.Fields[field]
		if !assert.True(t, ok, "the tile has no field %s", field) {
			continue
		}
		switch w := w.(type) {
		case nil:
			assert.Empty(t, got.Value, field)
		case string:
			assert.Equal(t, w, got.Value, field)
		case float64:
			n, err := strconv.ParseFloat(got.Value, 64)
			if assert.NoError(t, err, field) {
				assert.Equal(t, w, n, field)
			}
		default:
			t.Errorf("%s: unexpected JSON value %v", field, w)
		}
	}
}

// getQueue fetches /support/queue as the tile does.
func getQueue(t *testing.T, base string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/support/queue", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tileToken)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	var q map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&q))
	return q
}

// screenshot saves the tile to docs/img/name when UPDATE_SCREENSHOTS=1.
func screenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	tiletest.Screenshot(t, tab, filepath.Join("..", "..", "..", "docs", "img", name))
}

// queueStub is a /support/queue route whose answer the test sets. With a
// gate, each request waits until the gate is closed.
type queueStub struct {
	mu   sync.Mutex
	code int
	view api.QueueView
	gate chan struct{}
}

func (q *queueStub) answer(code int, v api.QueueView) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.code, q.view = code, v
}

func (q *queueStub) route() api.Route {
	return api.Route{Serve: func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
		if q.gate != nil {
			select {
			case <-q.gate:
			case <-ctx.Done():
			}
		}
		q.mu.Lock()
		defer q.mu.Unlock()
		if q.code != http.StatusOK {
			return apigw.JSON(q.code, map[string]string{"error": "queue unavailable"})
		}
		return apigw.JSON(q.code, q.view)
	}}
}

func sampleView() api.QueueView {
	pct := 92.5
	return api.QueueView{
		Pending: 4, AvgWaitSeconds: 312.4, OldestWaitSeconds: 1504,
		SLA:         api.QueueSLA{TargetSeconds: 1800, CompliancePct: &pct, Breached: 0, AtRisk: 1},
		GeneratedAt: time.Date(2026, 11, 30, 14, 0, 0, 0, time.UTC),
	}
}

// seenRequest is a request as it reached the API server.
type seenRequest struct {
	Method, Path, RawQuery, Authorization string
}

// apiServer serves an api.Handler with the tile routes and routes over
// HTTP, and records the requests that reach it.
type apiServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seenRequest
}

// newAPIServer starts the server. A non-empty corsOrigin answers CORS as
// API Gateway's corsPreflight does in front of the function.
func newAPIServer(t *testing.T, routes map[string]api.Route, corsOrigin string) *apiServer {
	t.Helper()
	all := api.TileRoutes()
	maps.Copy(all, routes)
	h := &api.Handler{Token: tileToken, Log: slog.New(slog.DiscardHandler), Now: time.Now, Routes: all}
	next := apigw.HTTP(h.Handle, 1<<20, nil)
	s := &apiServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.seen = append(s.seen, seenRequest{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization")})
		s.mu.Unlock()
		if corsOrigin != "" {
			w.Header().Set("Access-Control-Allow-Origin", corsOrigin)
			w.Header().Set("Vary", "Origin")
			if r.Method == http.MethodOptions {
				w.Header().Set("Access-Control-Allow-Methods", "GET")
				w.Header().Set("Access-Control-Allow-Headers", "authorization")
				w.WriteHeader(http.StatusNoContent)
				return
			}
		}
		next.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *apiServer) requests() []seenRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.seen)
}

// queueRequests are the GETs of /support/queue (no preflights).
func (s *apiServer) queueRequests() []seenRequest {
	return slices.DeleteFunc(s.requests(), func(r seenRequest) bool {
		return r.Path != "/support/queue" || r.Method != http.MethodGet
	})
}

func authorizations(reqs []seenRequest) []string {
	var out []string
	for _, r := range reqs {
		out = append(out, r.Authorization)
	}
	return out
}

// testPolicy is a 30-minute first-response target, at risk in its last 6
// minutes, with business open around the clock so waits are wall time.
func testPolicy(t *testing.T) sla.Policy {
	t.Helper()
	var week sla.Week
	for d := range week {
		week[d] = []sla.Interval{{Open: 0, Close: 24 * 60}}
	}
	cal, err := sla.NewCalendar(time.UTC, week, nil)
	require.NoError(t, err)
	return sla.Policy{Target: 30 * time.Minute, AtRiskFraction: 0.2, Calendar: func(int64) *sla.Calendar { return cal }}
}

// seedQueue stores three waiting customers (pending, at risk, breached), one
// answered conversation, and today's outcomes: three met, one breached.
func seedQueue(t *testing.T, s *memstore.Store, now time.Time) {
	t.Helper()
	for i, wait := range []time.Duration{2 * time.Minute, 26 * time.Minute, 45 * time.Minute} {
		addWaiting(t, s, int64(i+1), now.Add(-wait))
	}
	answered := conversation.Key{AccountID: 1, ConversationID: 99}
	apply(t, s, answered,
		conversation.Fact{MessageID: 990, At: now.Add(-20 * time.Minute), Kind: conversation.KindCustomer},
		conversation.Fact{MessageID: 991, At: now.Add(-15 * time.Minute), Kind: conversation.KindHuman})

	// Answered: three within the target, one after it.
	for i, state := range []sla.State{sla.Met, sla.Met, sla.Met, sla.Breached} {
		start := now.Add(-time.Duration(i+1) * time.Hour)
		answer := start.Add(5 * time.Minute)
		if state == sla.Breached {
			answer = start.Add(40 * time.Minute)
		}
		r := sla.Record{AccountID: 1, ConversationID: int64(50 + i), Start: start, RespondedAt: answer, State: state}
		require.NoError(t, s.AddDayRecord(t.Context(), store.DayRecord{
			Day: stats.Day(now), Kind: sla.DayRecordKind, ID: r.ID(), Data: r.JSON(), At: now,
		}))
	}
}

// addWaiting stores a conversation whose customer wrote at since and has
// had no answer.
func addWaiting(t *testing.T, s *memstore.Store, id int64, since time.Time) {
	t.Helper()
	k := conversation.Key{AccountID: 1, ConversationID: id}
	apply(t, s, k, conversation.Fact{MessageID: id * 10, At: since, Kind: conversation.KindCustomer})
	st, ok, err := s.Conversation(t.Context(), k)
	require.NoError(t, err)
	require.True(t, ok)
	require.True(t, st.WaitingForFirstResponse())
}

func apply(t *testing.T, s *memstore.Store, k conversation.Key, msgs ...conversation.Fact) {
	t.Helper()
	_, err := s.UpdateConversation(t.Context(), k, func(st *conversation.State) bool {
		return st.Apply(conversation.Observation{Key: k, Messages: msgs}, false)
	})
	require.NoError(t, err)
}
