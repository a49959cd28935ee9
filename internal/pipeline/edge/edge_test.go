package edge_test

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
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/edge"
	"supportpipe/internal/pipeline/edge/edgetest"
	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
	"supportpipe/internal/ports/store/sqlitestore"
)

const secret = "wQ7rT2vX9pL4mN8bC6dF1hJ3"

var now = time.Date(2026, 5, 12, 9, 14, 28, 0, time.UTC)

type env struct {
	h      *edge.Handler
	q      *sqlitequeue.Queue
	st     *sqlitestore.Store
	rec    *stats.Buffer
	spool  *fakeSpool
	claims *claim.Check
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

func (failingQueue) SendDeadLetter(context.Context, []byte, map[string]string, string) (string, error) {
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
	rec := stats.NewBuffer(st)
	bucket, err := fileblob.New(filepath.Join(dir, "claims"))
	require.NoError(t, err)
	e := &env{q: q, st: st, rec: rec, spool: &fakeSpool{}, claims: &claim.Check{Bucket: bucket, Prefix: "claims/"}}
	e.h = &edge.Handler{
		Verifier: chatwoot.NewVerifier([]string{"previous-secret", secret}, chatwoot.DefaultTolerance),
		Queue:    q, Claims: e.claims, Counters: rec, Log: slog.New(slog.NewJSONHandler(io.Discard, nil)),
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
	b, err := os.ReadFile(filepath.Join("..", "..", "..", "testdata", "chatwoot", name))
	require.NoError(t, err)
	return b
}

func TestAccepted(t *testing.T) {
	e := newEnv(t)
	body := fixture(t, "02_message_created_incoming.json")
	resp, err := e.h.Handle(context.Background(), edgetest.Request(secret, body, now, "3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41"))
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

func TestBase64BodyAndAccount(t *testing.T) {
	conversation := fixture(t, "01_conversation_created.json") // names account 7 only in messages[0]
	withAccount := []byte(`{"event":"conversation_created","id":5,"account":{"id":9,"name":"A"},"messages":[{"account_id":7}]}`)
	noAccount := []byte(`{"event":"conversation_created","id":5}`)
	tests := []struct {
		name     string
		body     []byte
		path     string
		account  string
		mismatch int64
	}{
		{"the first message's account", conversation, "/webhooks/chatwoot", "7", 0},
		{"the same account in the path", conversation, "/webhooks/chatwoot/7", "7", 0},
		{"the signed payload wins over the path", conversation, "/webhooks/chatwoot/8", "7", 1},
		{"the conversation's own account (Chatwoot ≥ 4.14.2) wins", withAccount, "/webhooks/chatwoot", "9", 0},
		{"the path when the payload names none", noAccount, "/webhooks/chatwoot/42", "42", 0},
		{"the default when neither does", noAccount, "/webhooks/chatwoot", "1", 0},
		{"a path that is not a number is not used", noAccount, "/webhooks/chatwoot/abc", "1", 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			req := edgetest.Request(secret, tc.body, now, "d-1")
			req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString(tc.body), true
			req.RawPath = tc.path
			resp, err := e.h.Handle(context.Background(), req)
			require.NoError(t, err)
			require.Equal(t, 202, resp.StatusCode, resp.Body)
			msgs, err := e.q.Receive(context.Background(), 10, time.Minute)
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			assert.Equal(t, tc.body, msgs[0].Body)
			assert.Equal(t, tc.account, msgs[0].Attributes[queue.AttrAccount])
			assert.Equal(t, tc.mismatch, e.counters(t)[stats.AccountMismatch])
		})
	}
}

func TestIgnoredEvent(t *testing.T) {
	e := newEnv(t)
	for _, body := range [][]byte{fixture(t, "10_conversation_typing_on.json"), []byte(`{"event":"brand_new_event","id":1}`)} {
		resp, err := e.h.Handle(context.Background(), edgetest.Request(secret, body, now, "d"))
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
	signed := func(b []byte) events.APIGatewayV2HTTPRequest { return edgetest.Request(secret, b, now, "d") }
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
		{"unsigned (an automation's send-webhook action)", func() events.APIGatewayV2HTTPRequest {
			r := signed(body)
			delete(r.Headers, chatwoot.HeaderSignature)
			delete(r.Headers, chatwoot.HeaderTimestamp)
			return r
		}, 401, "unsigned"},
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
			return edgetest.Request(secret, body, now.Add(-301*time.Second), "d")
		}, 401, "stale_timestamp"},
		{"future timestamp", func() events.APIGatewayV2HTTPRequest {
			return edgetest.Request(secret, body, now.Add(301*time.Second), "d")
		}, 401, "stale_timestamp"},
		{"an invalid payload with a forged signature", func() events.APIGatewayV2HTTPRequest {
			r := signed([]byte(`{"event":"message_created",`))
			r.Headers[chatwoot.HeaderSignature] = chatwoot.Sign([]byte("wrong"), r.Headers[chatwoot.HeaderTimestamp], []byte(r.Body))
			return r
		}, 401, "bad_signature"},
		{"bad base64", func() events.APIGatewayV2HTTPRequest {
			r := signed(body)
			r.Body, r.IsBase64Encoded = "!!!", true
			return r
		}, 400, "encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			resp, err := e.h.Handle(context.Background(), tt.req())
			require.NoError(t, err)
			assert.Equal(t, tt.code, resp.StatusCode, resp.Body)
			assert.Contains(t, resp.Body, `"status":"rejected"`)
			e.assertNothingKept(t)
			c := e.counters(t)
			assert.Equal(t, int64(1), c[stats.Rejected])
			assert.Equal(t, int64(1), c[stats.RejectedPrefix+tt.reason], "counted by reason %v", c)
			assert.Zero(t, c[stats.Accepted])
		})
	}
}

func (e *env) assertNothingKept(t *testing.T) {
	t.Helper()
	for _, f := range []func(context.Context) (queue.Depth, error){e.q.Depth, e.q.DLQDepth} {
		d, err := f(context.Background())
		require.NoError(t, err)
		assert.Zero(t, d.Visible+d.InFlight+d.Delayed, "nothing queued or dead-lettered")
	}
	keys, err := e.claims.Bucket.List(context.Background(), "", 0)
	require.NoError(t, err)
	assert.Empty(t, keys, "nothing stored by claim check")
}

// TestAuthenticButInvalidIsKept: after a valid signature the answer is 202,
// and what the decoder cannot use is kept in the DLQ, raw, with its
// headers and the reason, so a redrive after an upgrade processes it.
func TestAuthenticButInvalidIsKept(t *testing.T) {
	deep := strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000)
	tests := []struct {
		name, body, contentType, reason string
	}{
		{"malformed JSON", `{"event":"message_created",`, "", "not_json"},
		{"empty body", "", "", "empty"},
		{"no event", `{"id":1}`, "", "no_event"},
		{"a field of another type (a Chatwoot upgrade)", `{"event":"message_created","id":"x","conversation":{"id":1}}`, "", "schema"},
		{"a duplicate key", `{"event":"message_created","id":1,"id":2}`, "", "duplicate_key"},
		{"keys equal but for case", `{"event":"message_created","id":1,"ID":2}`, "", "duplicate_key"},
		{"absurd nesting", `{"event":"message_created","x":` + deep + `}`, "", "too_deep"},
		{"a content type other than JSON", `{"event":"message_created","id":1}`, "text/plain", "content_type"},
		{"invalid UTF-8", "{\"event\":\"message_created\",\"content\":\"\xff\"}", "", "not_json"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			req := edgetest.Request(secret, []byte(tc.body), now, "3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41")
			if tc.contentType != "" {
				req.Headers["content-type"] = tc.contentType
			}
			if !utf8.ValidString(tc.body) {
				req.Body, req.IsBase64Encoded = base64.StdEncoding.EncodeToString([]byte(tc.body)), true
			}
			resp, err := e.h.Handle(context.Background(), req)
			require.NoError(t, err)
			require.Equal(t, 202, resp.StatusCode, resp.Body)
			assert.Contains(t, resp.Body, `"invalid_payload":true`)

			d, err := e.q.Depth(context.Background())
			require.NoError(t, err)
			assert.Zero(t, d.Visible, "nothing for the processor")
			dls, err := e.q.ListDeadLetters(context.Background(), 10)
			require.NoError(t, err)
			require.Len(t, dls, 1)
			dl := dls[0]
			assert.Equal(t, queue.InvalidPayload, dl.Reason)
			assert.True(t, strings.HasPrefix(dl.Attributes[queue.AttrInvalid], tc.reason+": "), dl.Attributes[queue.AttrInvalid])
			assert.Equal(t, "3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41", dl.Attributes[queue.AttrDelivery])
			assert.Equal(t, req.Headers[chatwoot.HeaderSignature], dl.Attributes[queue.AttrSignature])
			assert.Equal(t, req.Headers[chatwoot.HeaderTimestamp], dl.Attributes[queue.AttrTimestamp])
			raw, err := e.claims.Body(context.Background(), dl.Body, dl.Attributes)
			require.NoError(t, err)
			assert.Equal(t, tc.body, string(raw), "kept raw, byte for byte")

			c := e.counters(t)
			for _, name := range []string{stats.Received, stats.Accepted, stats.InvalidPayload, stats.InvalidPrefix + tc.reason, stats.DeadLettered} {
				assert.Equal(t, int64(1), c[name], name)
			}
			assert.Zero(t, c[stats.Rejected])
		})
	}
}

// TestLargeAndUnfitBodiesGoByClaimCheck: bodies SQS cannot carry are
// accepted up to 5 MiB; over that, 413 and a refusal.
func TestLargeAndUnfitBodiesGoByClaimCheck(t *testing.T) {
	// message makes a body of exactly n bytes; Chatwoot escapes <>& in
	// content as six bytes each.
	message := func(n int, content string) []byte {
		frame := `{"event":"message_created","id":1,"account":{"id":7},"conversation":{"id":3},"content":""}`
		rest := n - len(frame) - len(content)
		const tag = `\u003cp\u003e`
		filler := strings.Repeat(tag, rest/len(tag)) + strings.Repeat("x", rest%len(tag))
		return []byte(frame[:len(frame)-2] + content + filler + `"}`)
	}
	tests := []struct {
		name    string
		body    []byte
		claimed bool
	}{
		{"small", message(2000, ""), false},
		{"1.3 MB", message(1_300_000, ""), true},
		{"under 1 MiB but not with its attributes", message(queue.MaxMessageSize-100, ""), true},
		{"U+FFFF in valid JSON", message(500, "\uFFFF"), true},
		{"U+FFFE", message(500, "\uFFFE"), true},
		{"5 MiB exactly", message(edge.MaxBody, ""), true},
	}
	require.Len(t, tests[len(tests)-1].body, edge.MaxBody)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			resp, err := e.h.Handle(context.Background(), edgetest.Request(secret, tc.body, now, "d"))
			require.NoError(t, err)
			require.Equal(t, 202, resp.StatusCode, resp.Body)
			assert.NotContains(t, resp.Body, "invalid_payload")
			msgs, err := e.q.Receive(context.Background(), 10, time.Minute)
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			assert.Equal(t, tc.claimed, claim.Claimed(msgs[0].Attributes))
			got, err := e.claims.Body(context.Background(), msgs[0].Body, msgs[0].Attributes)
			require.NoError(t, err)
			assert.Equal(t, tc.body, got)
		})
	}

	e := newEnv(t)
	over := []byte(`{"event":"message_created","content":"` + strings.Repeat("a", edge.MaxBody) + `"}`)
	for _, req := range []events.APIGatewayV2HTTPRequest{
		edgetest.Request(secret, over, now, "d"),
		func() events.APIGatewayV2HTTPRequest {
			r := edgetest.Request(secret, over, now, "d")
			r.Body, r.IsBase64Encoded = base64.StdEncoding.EncodeToString(over), true
			return r
		}(),
	} {
		resp, err := e.h.Handle(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, 413, resp.StatusCode)
	}
	e.assertNothingKept(t)
	c := e.counters(t)
	assert.Equal(t, int64(2), c[stats.Refused], "a possibly authentic webhook refused: not a rejection")
	assert.Equal(t, int64(2), c[stats.RefusedPrefix+"too_large"])
	assert.Zero(t, c[stats.Rejected])
}

func TestReplay(t *testing.T) {
	e := newEnv(t)
	e.h.Replays = edge.NewReplayCache(10*time.Minute, 100)
	body := fixture(t, "02_message_created_incoming.json")
	req := edgetest.Request(secret, body, now, "3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41")
	resp, err := e.h.Handle(context.Background(), req)
	require.NoError(t, err)
	require.Equal(t, 202, resp.StatusCode)

	upper := edgetest.Request(secret, body, now, "3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41")
	upper.Headers[chatwoot.HeaderSignature] = "sha256=" + strings.ToUpper(strings.TrimPrefix(upper.Headers[chatwoot.HeaderSignature], "sha256="))
	for _, r := range []events.APIGatewayV2HTTPRequest{req, upper} {
		resp, err = e.h.Handle(context.Background(), r)
		require.NoError(t, err)
		assert.Equal(t, 409, resp.StatusCode, "the same request, however its hex is spelled")
	}
	renamed := edgetest.Request(secret, body, now, "0c2f1e8b-0000-4a8e-9d55-3b0e6f6a7c4d")
	resp, err = e.h.Handle(context.Background(), renamed)
	require.NoError(t, err)
	assert.Equal(t, 202, resp.StatusCode, "a new delivery id is a re-emission: accepted, deduplicated by the processor")
	assert.Equal(t, int64(2), e.counters(t)[stats.RejectedPrefix+"replay"])
}

func TestImplausibleDeliveryIDIsReplaced(t *testing.T) {
	e := newEnv(t)
	e.h.Replays = edge.NewReplayCache(10*time.Minute, 100)
	var logs strings.Builder
	e.h.Log = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	body := fixture(t, "02_message_created_incoming.json")
	for i, id := range []string{strings.Repeat("a", 8192), "", "3b0e6f6a 7c4d", strings.Repeat("b", 65), "<script>"} {
		req := edgetest.Request(secret, body, now.Add(time.Duration(i)*time.Second), id)
		resp, err := e.h.Handle(context.Background(), req)
		require.NoError(t, err)
		require.Equal(t, 202, resp.StatusCode)
		msgs, err := e.q.Receive(context.Background(), 10, time.Minute)
		require.NoError(t, err)
		require.Len(t, msgs, 1)
		got := msgs[0].Attributes[queue.AttrDelivery]
		assert.True(t, strings.HasPrefix(got, "derived-"), got)
		assert.LessOrEqual(t, len(got), 64)
		resp, err = e.h.Handle(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, 409, resp.StatusCode, "the derived id is a function of the request")
	}
	assert.NotContains(t, logs.String(), strings.Repeat("a", 65), "an 8 KB header is never logged")
}

func TestSpoolFallback(t *testing.T) {
	e := newEnv(t)
	e.h.Queue = failingQueue{}
	e.h.Spool = e.spool
	resp, err := e.h.Handle(context.Background(), edgetest.Request(secret, fixture(t, "02_message_created_incoming.json"), now, "d"))
	require.NoError(t, err)
	assert.Equal(t, 202, resp.StatusCode)
	assert.Contains(t, resp.Body, `"spooled":true`)
	assert.Equal(t, 1, e.spool.puts)
	c := e.counters(t)
	assert.Equal(t, map[string]int64{stats.Spooled: 1}, c, "received and accepted come from the processor")

	e.spool.err = errors.New("bucket unavailable")
	resp, err = e.h.Handle(context.Background(), edgetest.Request(secret, fixture(t, "02_message_created_incoming.json"), now, "d2"))
	require.NoError(t, err)
	assert.Equal(t, 503, resp.StatusCode, "both failed: only now may the edge answer 5xx")
	assert.Equal(t, map[string]int64{stats.Spooled: 1, stats.Received: 1, stats.Refused: 1,
		stats.RefusedPrefix + "unavailable": 1}, e.counters(t))
}
