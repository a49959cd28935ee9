package local_test

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/edge"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/runtime/local"
	"supportpipe/internal/support/conversation"
)

// payloadMarker is in every hostile body: it must never reach the logs.
const payloadMarker = "HOSTILE-PAYLOAD-7f3a"

type hostile struct {
	name   string
	method string
	body   []byte
	// headers set after signing; a "" value deletes the header.
	headers map[string]string
	// sign with this timestamp offset (default 0) and secret (default ours).
	skew     time.Duration
	secret   string
	signBody []byte // sign this instead of body
	// readTimeout is the server's, when the case is about it.
	readTimeout time.Duration
	want        int
	reason      string
	// rawRequest sends what net/http cannot, signed at now.
	rawRequest func(t *testing.T, addr string, now time.Time) int
}

func validMessage(extra string) []byte {
	return []byte(`{"event":"message_created","id":71,"content":"` + payloadMarker + `","message_type":"incoming",` +
		`"created_at":"2026-05-12T09:14:27.512Z","account":{"id":7},"conversation":{"id":9001,"labels":[],"updated_at":1778577267.6}` + extra + `}`)
}

func wrongType(field, value string) []byte {
	b := strings.Replace(string(validMessage("")), `"`+field+`":`, `"ignored_`+field+`":`, 1)
	return []byte(strings.TrimSuffix(b, "}") + `,"` + field + `":` + value + `}`)
}

func TestHostileRequests(t *testing.T) {
	nested := []byte(`{"event":"message_created","x":` + strings.Repeat("[", 5000) + strings.Repeat("]", 5000) + `,"marker":"` + payloadMarker + `"}`)
	// Authentic (validly signed) bodies the decoder cannot use are kept
	// for review and answered 202; only what no one proved to be Chatwoot
	// is rejected, and a body too large to read is refused.
	kept, refused := 202, 413
	cases := []hostile{
		{name: "empty body", body: []byte{}, want: kept, reason: "empty"},
		{name: "5 MiB + 1", body: append(validMessage(""), bytes.Repeat([]byte(" "), edge.MaxBody)...), want: refused, reason: "too_large"},
		{name: "deeply nested", body: nested, want: kept, reason: "too_deep"},
		{name: "invalid UTF-8", body: []byte("{\"event\":\"message_created\",\"content\":\"" + payloadMarker + "\xff\xfe\"}"), want: kept, reason: "not_json"},
		{name: "duplicate keys", body: validMessage(`,"event":"contact_created"`), want: kept, reason: "duplicate_key"},
		{name: "keys equal but for case", body: validMessage(`,"ID":72`), want: kept, reason: "duplicate_key"},
		{name: "huge number", body: wrongType("id", "1e400"), want: kept, reason: "schema"},
		{name: "id as string", body: wrongType("id", `"71"`), want: kept, reason: "schema"},
		{name: "content as object", body: wrongType("content", `{"x":1}`), want: kept, reason: "schema"},
		{name: "message_type unknown", body: wrongType("message_type", `"sideways"`), want: kept, reason: "schema"},
		{name: "message_type as bool", body: wrongType("message_type", `true`), want: kept, reason: "schema"},
		{name: "private as string", body: wrongType("private", `"yes"`), want: kept, reason: "schema"},
		{name: "created_at as object", body: wrongType("created_at", `{"t":1}`), want: kept, reason: "schema"},
		{name: "conversation as string", body: wrongType("conversation", `"9001"`), want: kept, reason: "schema"},
		{name: "account as list", body: wrongType("account", `[7]`), want: kept, reason: "schema"},
		{name: "sender as number", body: wrongType("sender", `5`), want: kept, reason: "schema"},
		{name: "conversation labels as string", body: []byte(`{"event":"conversation_updated","id":5,"labels":"` + payloadMarker + `"}`), want: kept, reason: "schema"},
		{name: "conversation updated_at as bool", body: []byte(`{"event":"conversation_updated","id":5,"updated_at":true,"x":"` + payloadMarker + `"}`), want: kept, reason: "schema"},
		{name: "event as number", body: []byte(`{"event":5,"x":"` + payloadMarker + `"}`), want: kept, reason: "no_event"},
		{name: "no event", body: []byte(`{"id":1,"x":"` + payloadMarker + `"}`), want: kept, reason: "no_event"},
		{name: "JSON array", body: []byte(`["` + payloadMarker + `"]`), want: kept, reason: "not_json"},
		{name: "non-JSON content type", body: validMessage(""), headers: map[string]string{"Content-Type": "text/plain"}, want: kept, reason: "content_type"},
		{name: "form content type", body: validMessage(""), headers: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, want: kept, reason: "content_type"},
		{name: "unsigned (an automation's send-webhook action)", body: validMessage(""), headers: map[string]string{"X-Chatwoot-Signature": "", "X-Chatwoot-Timestamp": ""}, want: 401, reason: "unsigned"},
		{name: "missing signature", body: validMessage(""), headers: map[string]string{"X-Chatwoot-Signature": ""}, want: 401, reason: "missing_signature"},
		{name: "missing timestamp", body: validMessage(""), headers: map[string]string{"X-Chatwoot-Timestamp": ""}, want: 401, reason: "missing_signature"},
		{name: "two signature headers", body: validMessage(""), rawRequest: twoSignatures, want: 401, reason: "malformed_signature"},
		{name: "signature of another body", body: validMessage(""), signBody: validMessage(`,"x":1`), want: 401, reason: "bad_signature"},
		{name: "body-only signature (chatwoot#13809)", body: validMessage(""), headers: map[string]string{"X-Chatwoot-Signature": bodyOnly(validMessage(""))}, want: 401, reason: "bad_signature"},
		{name: "wrong secret", body: validMessage(""), secret: "guessed", want: 401, reason: "bad_signature"},
		{name: "an invalid body under a forged signature", body: []byte(`["` + payloadMarker + `"]`), secret: "guessed", want: 401, reason: "bad_signature"},
		{name: "timestamp 301 s in the future", body: validMessage(""), skew: 301 * time.Second, want: 401, reason: "stale_timestamp"},
		{name: "replay of a captured request after 301 s", body: validMessage(""), skew: -301 * time.Second, want: 401, reason: "stale_timestamp"},
		{name: "timestamp not a number", body: validMessage(""), headers: map[string]string{"X-Chatwoot-Timestamp": "yesterday"}, want: 401, reason: "malformed_signature"},
		{name: "GET", method: http.MethodGet, want: 405, reason: "method"},
		{name: "PUT", method: http.MethodPut, body: validMessage(""), want: 405, reason: "method"},
		{name: "slow-loris body", body: validMessage(""), rawRequest: slowLoris, readTimeout: time.Second, want: 408, reason: "timeout"},
	}
	require.GreaterOrEqual(t, len(cases), 25)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Only the case about the read timeout has a short one: the
			// others take as long as this machine needs to send them.
			readTimeout := cmp.Or(tc.readTimeout, waitfor.Hang)
			// A stopped clock: a timestamp signed 301 s off is 301 s off
			// when the server checks it, however long that takes.
			s := start(t, withClock(newClock(time.Now())), func(s *local.Server) { s.ReadTimeout = readTimeout })
			code := s.send(t, tc)
			assert.Equal(t, tc.want, code)
			counter, dead := stats.RejectedPrefix+tc.reason, 0
			switch tc.want {
			case kept:
				counter, dead = stats.InvalidPrefix+tc.reason, 1
			case refused:
				counter = stats.RefusedPrefix + tc.reason
			}
			waitfor.Until(t, func() bool {
				c, err := s.s.Store.Counters(context.Background(), stats.Day(s.s.Now()))
				return err == nil && c[counter] == 1
			}, "counted as %s", counter)
			c, err := s.s.Store.Counters(context.Background(), stats.Day(s.s.Now()))
			require.NoError(t, err)
			if tc.want == kept || tc.want == refused {
				assert.Zero(t, c[stats.Rejected], "an authentic or possibly authentic webhook is not a rejection")
			} else {
				assert.Equal(t, int64(1), c[stats.Rejected])
			}
			d, err := s.s.Queue.Depth(context.Background())
			require.NoError(t, err)
			assert.Zero(t, d.Visible+d.InFlight+d.Delayed, "nothing queued for processing")
			dls, err := s.s.Queue.ListDeadLetters(context.Background(), 10)
			require.NoError(t, err)
			require.Len(t, dls, dead, "kept for review only when authentic")
			if dead == 1 {
				assert.Equal(t, queue.InvalidPayload, dls[0].Reason)
				assert.True(t, strings.HasPrefix(dls[0].Attributes[queue.AttrInvalid], tc.reason+": "), dls[0].Attributes[queue.AttrInvalid])
				raw, err := s.s.Claims.Body(context.Background(), dls[0].Body, dls[0].Attributes)
				require.NoError(t, err)
				assert.Equal(t, tc.body, raw, "kept raw, byte for byte")
			}
			_, found, err := s.s.Store.Conversation(context.Background(), conversation.Key{AccountID: 7, ConversationID: 9001})
			require.NoError(t, err)
			assert.False(t, found, "nothing stored")
			assert.NotContains(t, logs.String(), payloadMarker, "no payload in the logs")
		})
	}
}

func (s *server) send(t *testing.T, tc hostile) int {
	t.Helper()
	if tc.rawRequest != nil {
		return tc.rawRequest(t, strings.TrimPrefix(s.url, "http://"), s.s.Now())
	}
	method := tc.method
	if method == "" {
		method = http.MethodPost
	}
	secretKey := tc.secret
	if secretKey == "" {
		secretKey = secret
	}
	signed := tc.body
	if tc.signBody != nil {
		signed = tc.signBody
	}
	ts := strconv.FormatInt(s.s.Now().Add(tc.skew).Unix(), 10)
	req, _ := http.NewRequest(method, s.url+"/webhooks/chatwoot", bytes.NewReader(tc.body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Chatwoot-Delivery", "hostile-"+tc.name)
	req.Header.Set("X-Chatwoot-Timestamp", ts)
	req.Header.Set("X-Chatwoot-Signature", chatwoot.Sign([]byte(secretKey), ts, signed))
	for k, v := range tc.headers {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// bodyOnly is the mistaken scheme of chatwoot#13809: HMAC over the body only.
func bodyOnly(body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func twoSignatures(t *testing.T, addr string, now time.Time) int {
	body := validMessage("")
	ts := strconv.FormatInt(now.Unix(), 10)
	sig := chatwoot.Sign([]byte(secret), ts, body)
	raw := fmt.Sprintf("POST /webhooks/chatwoot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Chatwoot-Timestamp: %s\r\n"+
		"X-Chatwoot-Signature: %s\r\nX-Chatwoot-Signature: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		ts, sig, sig, len(body), body)
	return rawStatus(t, addr, []byte(raw), 0)
}

// slowLoris announces a body and sends a few bytes of it, a byte at a time,
// slower than the server's read timeout allows. The rest never comes: the
// server answers once its read timeout passes, however late that is.
func slowLoris(t *testing.T, addr string, now time.Time) int {
	body := validMessage("")
	ts := strconv.FormatInt(now.Unix(), 10)
	head := fmt.Sprintf("POST /webhooks/chatwoot HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Chatwoot-Timestamp: %s\r\n"+
		"X-Chatwoot-Signature: %s\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", ts, chatwoot.Sign([]byte(secret), ts, body), len(body))
	return rawStatus(t, addr, []byte(head), 300*time.Millisecond, body[:5]...)
}

func rawStatus(t *testing.T, addr string, head []byte, drip time.Duration, dripBytes ...byte) int {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write(head)
	require.NoError(t, err)
	for _, b := range dripBytes {
		time.Sleep(drip)
		if _, err := c.Write([]byte{b}); err != nil {
			break
		}
	}
	_ = c.SetReadDeadline(time.Now().Add(waitfor.Hang)) // a hung server, not a slow one
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode
}

// Chatwoot has sent 9999-12-31 and epoch 1 as event times. Such a time is
// taken as the webhook's receipt time: the event is processed rather than
// dead-lettered after its 202, the conversation, the queue and the draft
// request read back with sane times, and the state keeps what was sent.
func TestHostileEventTimes(t *testing.T) {
	received := time.Date(2026, 11, 23, 15, 1, 0, 0, time.UTC) // Monday 10:01 New York
	tests := []struct {
		name     string
		created  time.Time
		reported string
	}{
		{"9999-12-31", time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), "9999-12-31T00:00:00Z"},
		{"epoch 1", time.Unix(1, 0).UTC(), "1970-01-01T00:00:01Z"},
		{"a week ahead", received.AddDate(0, 0, 7), "2026-11-30T15:01:00Z"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			s := start(t, withClock(newClock(received)), withoutDrafter)
			body := messageBody(601, 61, tc.created, payloadMarker, "priya@example.com", `{}`, `[]`)
			require.Equal(t, 202, s.post(t, body, "d-601"))
			s.waitDrained(t)

			dead, err := s.s.Queue.ListDeadLetters(ctx, 10)
			require.NoError(t, err)
			assert.Empty(t, dead, "processed, not dead-lettered")

			v := s.view(t, 61)
			require.NotNil(t, v.FirstCustomerMessageAt)
			assert.Equal(t, received, v.FirstCustomerMessageAt.UTC())
			require.NotNil(t, v.SLA)
			assert.Equal(t, "pending", string(v.SLA.State))
			assert.Equal(t, received.Add(15*time.Minute), v.SLA.Due.UTC(), "15 min of business time from the receipt")

			var q map[string]any
			require.Equal(t, 200, s.get(t, "/support/queue", s.token, &q))
			assert.Equal(t, 1.0, q["pending"])
			assert.Equal(t, 0.0, q["avg_wait_seconds"])
			assert.Equal(t, 0.0, q["oldest_wait_seconds"])

			dq, err := s.s.Drafts.Queue(ctx)
			require.NoError(t, err)
			msgs, err := dq.Receive(ctx, 10, time.Minute)
			require.NoError(t, err)
			require.Len(t, msgs, 1, "one draft request")
			var req struct {
				Message struct {
					CreatedAt time.Time `json:"created_at"`
				} `json:"message"`
				SLA struct {
					DueAt time.Time `json:"due_at"`
				} `json:"sla"`
			}
			require.NoError(t, json.Unmarshal(msgs[0].Body, &req))
			assert.Equal(t, received, req.Message.CreatedAt.UTC())
			assert.Equal(t, received.Add(15*time.Minute), req.SLA.DueAt.UTC())

			st, found, err := s.s.Store.Conversation(ctx, conversation.Key{AccountID: 7, ConversationID: 61})
			require.NoError(t, err)
			require.True(t, found)
			var kept []string
			for _, it := range st.ImplausibleTimes {
				kept = append(kept, fmt.Sprintf("%s %d %s %s", it.Field, it.MessageID, it.Reported, it.Used.UTC().Format(time.RFC3339)))
			}
			assert.Contains(t, kept, "message.created_at 601 "+tc.reported+" 2026-11-23T15:01:00Z")
			assert.NotContains(t, logs.String(), payloadMarker, "no payload in the logs")
		})
	}
}
