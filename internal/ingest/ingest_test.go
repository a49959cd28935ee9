package ingest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ingest"
	"supportpipe/internal/ingest/ingesttest"
	"supportpipe/internal/queue"
	"supportpipe/internal/queue/sqlitequeue"
	"supportpipe/internal/stats"
	"supportpipe/internal/store/sqlitestore"
)

const secret = "wQ7rT2vX9pL4mN8bC6dF1hJ3"

var now = time.Date(2026, 5, 12, 9, 14, 28, 0, time.UTC)

type env struct {
	h     *ingest.Handler
	q     *sqlitequeue.Queue
	st    *sqlitestore.Store
	rec   *stats.Recorder
	spool *fakeSpool
}

type fakeSpool struct {
	puts int
	err  error
}

func (f *fakeSpool) Put(context.Context, []byte, map[string]string) (string, error) {
	if f.err != nil {
		return "", f.err
	}
	f.puts++
	return "spool-1", nil
}

type failingQueue struct{}

func (failingQueue) Send(context.Context, []byte, map[string]string) (string, error) {
	return "", errors.New("queue unavailable")
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	q, err := sqlitequeue.Open(ctx, filepath.Join(dir, "q.db"), "events", sqlitequeue.Options{})
	require.NoError(t, err)
	st, err := sqlitestore.Open(ctx, filepath.Join(dir, "s.db"))
	require.NoError(t, err)
	t.Cleanup(func() { q.Close(); st.Close() })
	rec := stats.NewRecorder(st)
	e := &env{q: q, st: st, rec: rec, spool: &fakeSpool{}}
	e.h = &ingest.Handler{
		Verifier: chatwoot.NewVerifier([]string{"previous-secret", secret}, chatwoot.DefaultTolerance),
		Queue:    q, Counters: rec, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Now: func() time.Time { return now }, DefaultAccount: 1,
	}
	return e
}

func (e *env) counters(t *testing.T) map[string]int64 {
	t.Helper()
	require.NoError(t, e.rec.Flush(context.Background()))
	c, err := e.st.Counters(context.Background(), stats.Day(now))
	require.NoError(t, err)
	return c
}

func fixture(t *testing.T, name string) []byte {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "chatwoot", name))
	require.NoError(t, err)
	return b
}

func TestAccepted(t *testing.T) {
	e := newEnv(t)
	body := fixture(t, "02_message_created_incoming.json")
	resp, err := e.h.Handle(context.Background(), ingesttest.Request(secret, body, now, "3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41"))
	require.NoError(t, err)
	require.Equal(t, 202, resp.StatusCode, resp.Body)
	var r struct{ Status, ID string }
	require.NoError(t, json.Unmarshal([]byte(resp.Body), &r))
	assert.Equal(t, "accepted", r.Status)

	msgs, err := e.q.Receive(context.Background(), 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	m := msgs[0]
	assert.Equal(t, r.ID, m.ID, "the response names the queued message")
	assert.Equal(t, body, m.Body, "the raw bytes are queued, not a re-encoding")
	assert.Equal(t, "3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41", m.Attributes[queue.AttrDelivery])
	assert.Equal(t, "1778577268", m.Attributes[queue.AttrTimestamp])
	assert.True(t, strings.HasPrefix(m.Attributes[queue.AttrSignature], "sha256="))
	assert.Equal(t, "2026-05-12T09:14:28Z", m.Attributes[queue.AttrReceivedAt])
	assert.Equal(t, "7", m.Attributes[queue.AttrAccount], "account from the payload")
	assert.Equal(t, "message_created", m.Attributes[queue.AttrEvent])
	assert.Empty(t, e.counters(t), "an enqueued event is counted by the processor, not here")
}

func TestBase64BodyAndPathAccount(t *testing.T) {
	e := newEnv(t)
	body := fixture(t, "01_conversation_created.json")
	req := ingesttest.Request(secret, body, now, "d-1")
	req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	req.RawPath = "/webhooks/chatwoot/42"
	resp, err := e.h.Handle(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, 202, resp.StatusCode, resp.Body)
	msgs, err := e.q.Receive(context.Background(), 10, time.Minute)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	assert.Equal(t, body, msgs[0].Body)
	assert.Equal(t, "42", msgs[0].Attributes[queue.AttrAccount], "the path names the account")
}

func TestIgnoredEvent(t *testing.T) {
	e := newEnv(t)
	for _, body := range [][]byte{fixture(t, "10_conversation_typing_on.json"), []byte(`{"event":"brand_new_event","id":1}`)} {
		resp, err := e.h.Handle(context.Background(), ingesttest.Request(secret, body, now, "d"))
		require.NoError(t, err)
		assert.Equal(t, 202, resp.StatusCode)
		assert.Contains(t, resp.Body, `"ignored":true`)
	}
	d, err := e.q.Depth(context.Background())
	require.NoError(t, err)
	assert.Zero(t, d.Visible)
	c := e.counters(t)
	assert.Equal(t, int64(2), c[stats.Ignored])
	assert.Zero(t, c[stats.Accepted])
}

func TestRejections(t *testing.T) {
	body := fixture(t, "02_message_created_incoming.json")
	signed := func(b []byte) events.APIGatewayV2HTTPRequest { return ingesttest.Request(secret, b, now, "d") }
	tests := []struct {
		name   string
		req    func() events.APIGatewayV2HTTPRequest
		code   int
		reason string
	}{
		{"GET", func() events.APIGatewayV2HTTPRequest {
			r := signed(body)
			r.RequestContext.HTTP.Method = "GET"
			return r
		}, 405, "method"},
		{"no signature", func() events.APIGatewayV2HTTPRequest {
			r := signed(body)
			delete(r.Headers, chatwoot.HeaderSignature)
			return r
		}, 401, "missing_signature"},
		{"no timestamp", func() events.APIGatewayV2HTTPRequest {
			r := signed(body)
			delete(r.Headers, chatwoot.HeaderTimestamp)
			return r
		}, 401, "missing_signature"},
		{"bad signature", func() events.APIGatewayV2HTTPRequest {
			r := signed(body)
			r.Headers[chatwoot.HeaderSignature] = chatwoot.Sign([]byte("wrong"), r.Headers[chatwoot.HeaderTimestamp], body)
			return r
		}, 401, "bad_signature"},
		{"body-only signature (chatwoot#13809)", func() events.APIGatewayV2HTTPRequest {
			r := signed(body)
			r.Headers[chatwoot.HeaderSignature] = "sha256=" + hmacHex(secret, body)
			return r
		}, 401, "bad_signature"},
		{"signature of another body", func() events.APIGatewayV2HTTPRequest {
			r := signed(fixture(t, "01_conversation_created.json"))
			r.Body = string(body)
			return r
		}, 401, "bad_signature"},
		{"stale timestamp", func() events.APIGatewayV2HTTPRequest {
			return ingesttest.Request(secret, body, now.Add(-301*time.Second), "d")
		}, 401, "stale_timestamp"},
		{"future timestamp", func() events.APIGatewayV2HTTPRequest {
			return ingesttest.Request(secret, body, now.Add(301*time.Second), "d")
		}, 401, "stale_timestamp"},
		{"malformed JSON", func() events.APIGatewayV2HTTPRequest { return signed([]byte(`{"event":"message_created",`)) }, 400, "not_json"},
		{"empty body", func() events.APIGatewayV2HTTPRequest { return signed(nil) }, 400, "empty"},
		{"no event", func() events.APIGatewayV2HTTPRequest { return signed([]byte(`{"id":1}`)) }, 400, "no_event"},
		{"wrong type", func() events.APIGatewayV2HTTPRequest {
			return signed([]byte(`{"event":"message_created","id":"x","conversation":{"id":1}}`))
		}, 400, "schema"},
		{"oversize", func() events.APIGatewayV2HTTPRequest {
			big := []byte(`{"event":"message_created","content":"` + strings.Repeat("a", ingest.MaxBody) + `"}`)
			return signed(big)
		}, 413, "too_large"},
		{"oversize base64", func() events.APIGatewayV2HTTPRequest {
			r := signed(body)
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString(make([]byte, ingest.MaxBody+1)), true
			return r
		}, 413, "too_large"},
		{"bad base64", func() events.APIGatewayV2HTTPRequest {
			r := signed(body)
			r.Body, r.IsBase64Encoded = "!!!", true
			return r
		}, 400, "encoding"},
		{"bad account in path", func() events.APIGatewayV2HTTPRequest {
			r := signed(body)
			r.RawPath = "/webhooks/chatwoot/abc"
			return r
		}, 400, "account"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			resp, err := e.h.Handle(context.Background(), tt.req())
			require.NoError(t, err)
			assert.Equal(t, tt.code, resp.StatusCode, resp.Body)
			assert.Contains(t, resp.Body, `"status":"rejected"`)
			d, err := e.q.Depth(context.Background())
			require.NoError(t, err)
			assert.Zero(t, d.Visible+d.InFlight+d.Delayed, "nothing queued")
			c := e.counters(t)
			assert.Equal(t, int64(1), c[stats.Rejected])
			assert.Equal(t, int64(1), c[stats.RejectedPrefix+tt.reason], "counted by reason %v", c)
			assert.Zero(t, c[stats.Accepted])
		})
	}
}

func TestSpoolFallback(t *testing.T) {
	e := newEnv(t)
	e.h.Queue = failingQueue{}
	e.h.Spool = e.spool
	resp, err := e.h.Handle(context.Background(), ingesttest.Request(secret, fixture(t, "02_message_created_incoming.json"), now, "d"))
	require.NoError(t, err)
	assert.Equal(t, 202, resp.StatusCode)
	assert.Contains(t, resp.Body, `"spooled":true`)
	assert.Equal(t, 1, e.spool.puts)
	c := e.counters(t)
	assert.Equal(t, map[string]int64{stats.Spooled: 1}, c, "received and accepted come from the processor")

	e.spool.err = errors.New("bucket unavailable")
	resp, err = e.h.Handle(context.Background(), ingesttest.Request(secret, fixture(t, "02_message_created_incoming.json"), now, "d2"))
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode, "both failed: only now may the edge answer 5xx")
	assert.Equal(t, map[string]int64{stats.Spooled: 1, stats.Received: 1, stats.Lost: 1}, e.counters(t))
}
