// Package edge is the webhook edge: it verifies Chatwoot's signature over
// the raw body and acknowledges an event only once it is durable in the
// queue (or, when the queue fails, in the spool).
//
// Chatwoot posts each webhook once and never retries, and on an API inbox
// it marks the customer's message failed on any answer but 2xx. So after a
// valid signature the answer is 2xx: what the decoder cannot use is kept in
// the DLQ with its reason (an upgrade that changes a field's type must not
// drop every webhook from then on), and a body the queue cannot carry goes
// by claim check. The only exceptions are 409 for a replay of a request
// already accepted and 503 when both the queue and the spool fail.
package edge

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"supportpipe/internal/apigw"
	"supportpipe/internal/chatwoot"
	"supportpipe/internal/jsonstr"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/runes"
)

// MaxBody is the largest body accepted (5 MiB). Lambda takes at most 6 MB
// for a whole synchronous invocation event; a 5 MiB body, with the JSON
// escaping of the event around it, stays under that. Chatwoot's largest
// bodies are emails: their HTML and text are stored three times and sent
// twice, so a 400 KiB email makes a body of about 4 MB.
const MaxBody = 5 << 20

// Queue is the part of the queue the edge needs.
type Queue interface {
	Send(ctx context.Context, body []byte, attrs map[string]string) (string, error)
	SendDeadLetter(ctx context.Context, body []byte, attrs map[string]string, reason string) (string, error)
}

// Spool keeps an event durable when the queue cannot take it; a sweeper
// re-enqueues spooled events later (or dead-letters those marked invalid).
type Spool interface {
	Put(ctx context.Context, body []byte, attrs map[string]string) (string, error)
}

// Counter receives counter increments (stats.Buffer).
type Counter interface {
	Add(day, name string, n int64)
}

// Handler handles POST /webhooks/chatwoot[/{account_id}] as an API Gateway
// HTTP API (payload v2) event.
type Handler struct {
	Verifier *chatwoot.Verifier
	Queue    Queue
	// Claims sends bodies the queue cannot carry through the blob store.
	// Without it, such a body can only be spooled.
	Claims   *claim.Check
	Spool    Spool // optional
	Counters Counter
	Log      *slog.Logger
	Now      func() time.Time
	// EnqueueTimeout bounds the queue call (SDK retries included) so the whole
	// request stays well inside Chatwoot's 5 s timeout.
	EnqueueTimeout time.Duration
	// DefaultAccount is used when neither the payload nor the path names one.
	DefaultAccount int64
	// OnAccepted, if set, is called with the receive time of each durable event.
	OnAccepted func(time.Time)
	// Replays, if set, rejects a request seen before (per process).
	Replays *ReplayCache
	// Metrics, if set, receives the same counts as Counters (EMF on Lambda).
	Metrics Metrics
	// Deliveries, if set, logs the authentic webhooks the edge answers
	// without queueing them (ignored, invalid): the processor logs the rest.
	Deliveries DeliveryLog
}

// Metrics is the metric sink of the edge (metrics.Recorder).
type Metrics interface {
	Count(name string, n int64)
	Reject(reason string)
}

func isJSON(ct string) bool {
	mt, _, _ := strings.Cut(ct, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

type response struct {
	Status         string `json:"status"`
	ID             string `json:"id,omitempty"`
	Ignored        bool   `json:"ignored,omitempty"`
	Spooled        bool   `json:"spooled,omitempty"`
	InvalidPayload bool   `json:"invalid_payload,omitempty"`
	Error          string `json:"error,omitempty"`
}

// Handle implements the webhook endpoint.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	now := h.Now()
	day := stats.Day(now)
	// The store's received and accepted counts of an enqueued event are
	// the processor's, written with its outcome, exactly once per event and
	// without a write here; the edge counts only what it does not enqueue.
	// So do its metrics: an accepted webhook writes no log line or metric
	// (the function's invocation count is the received count), which keeps
	// the logs billed per webhook to API Gateway's access line.
	count := func(name string) {
		h.Counters.Add(day, name, 1)
		if h.Metrics != nil {
			h.Metrics.Count(name, 1)
		}
	}
	// received counts a webhook on the day it came.
	received := func() { h.Counters.Add(day, stats.Received, 1) }
	delivery := safeID(apigw.Header(req, chatwoot.HeaderDelivery))
	// reject answers what no one proved to be Chatwoot: nothing is kept.
	reject := func(code int, reason string, msg string) (events.APIGatewayV2HTTPResponse, error) {
		received()
		h.Counters.Add(day, stats.Rejected, 1)
		h.Counters.Add(day, stats.RejectedPrefix+reason, 1)
		if h.Metrics != nil {
			h.Metrics.Reject(reason)
		}
		h.Log.LogAttrs(ctx, slog.LevelWarn, "webhook rejected", slog.String("reason", reason), slog.Int("status", code),
			slog.String("delivery_id", delivery))
		return reply(code, response{Status: "rejected", Error: msg}), nil
	}
	// refuse answers what may have been an authentic webhook that could not
	// be kept: Chatwoot will not retry, so it is a loss, counted as one.
	refuse := func(code int, reason string, msg string, err error) (events.APIGatewayV2HTTPResponse, error) {
		received()
		count(stats.Refused)
		h.Counters.Add(day, stats.RefusedPrefix+reason, 1)
		attrs := []slog.Attr{slog.String("reason", reason), slog.Int("status", code), slog.String("delivery_id", delivery)}
		if err != nil {
			attrs = append(attrs, slog.String("error", err.Error()))
		}
		h.Log.LogAttrs(ctx, slog.LevelError, "webhook refused: possibly authentic, not kept", attrs...)
		return reply(code, response{Status: "error", Error: msg}), nil
	}

	if m := req.RequestContext.HTTP.Method; m != "" && m != http.MethodPost {
		resp, _ := reject(http.StatusMethodNotAllowed, "method", "method not allowed")
		resp.Headers["allow"] = http.MethodPost
		return resp, nil
	}
	body, tooLarge, err := rawBody(req)
	if err != nil {
		return reject(http.StatusBadRequest, "encoding", "body is not valid base64")
	}
	if tooLarge {
		return refuse(http.StatusRequestEntityTooLarge, "too_large", "body exceeds 5 MiB", nil)
	}
	sig := apigw.Header(req, chatwoot.HeaderSignature)
	ts := apigw.Header(req, chatwoot.HeaderTimestamp)
	if sig == "" && ts == "" {
		// Automation and macro "send webhook" actions post unsigned
		// bodies, as does a webhook with no secret: told apart from a
		// request that lost one of the two headers.
		return reject(http.StatusUnauthorized, "unsigned", chatwoot.ErrMissingSignature.Error())
	}
	if err := h.Verifier.Verify(ts, sig, body, now); err != nil {
		return reject(http.StatusUnauthorized, signatureReason(err), err.Error())
	}

	// Authentic from here on: the answer is 2xx but for a replay or a loss.
	sig = chatwoot.NormalizeSignature(sig)
	if delivery != apigw.Header(req, chatwoot.HeaderDelivery) || delivery == "" {
		// Not an id Chatwoot would send: one derived from the signed request
		// stands in, so replays of it still match.
		delivery = derivedID(ts, sig)
	}
	if h.Replays != nil && h.Replays.Seen(delivery, sig, now) {
		// The same delivery id and signature (so the same timestamp and
		// body) is a captured request sent again: Chatwoot re-signs every
		// attempt, and a re-emission carries a new delivery id.
		return reject(http.StatusConflict, "replay", "request already received")
	}
	p, invalid := inspect(req, body)
	if invalid == "" && p.Kind == chatwoot.KindUnknown {
		received()
		count(stats.Ignored)
		h.Log.LogAttrs(ctx, slog.LevelInfo, "webhook ignored", slog.String("event", safeID(p.Event)),
			slog.String("delivery_id", delivery))
		h.logIgnored(ctx, req, p, delivery, now)
		return reply(http.StatusAccepted, response{Status: "accepted", ID: delivery, Ignored: true}), nil
	}
	account := h.account(ctx, req, p.AccountID, delivery, count)
	attrs := map[string]string{
		queue.AttrDelivery:   delivery,
		queue.AttrTimestamp:  ts,
		queue.AttrSignature:  sig,
		queue.AttrReceivedAt: now.UTC().Format(time.RFC3339Nano),
		queue.AttrEvent:      p.Event,
		queue.AttrAccount:    strconv.FormatInt(account, 10),
	}
	send := h.Queue.Send
	if invalid != "" {
		attrs[queue.AttrInvalid] = invalid
		send = func(ctx context.Context, body []byte, attrs map[string]string) (string, error) {
			return h.Queue.SendDeadLetter(ctx, body, attrs, queue.InvalidPayload)
		}
	}
	id, spooled, err := h.persist(ctx, send, body, attrs)
	if err != nil {
		return refuse(http.StatusServiceUnavailable, "unavailable", "temporarily unavailable", err)
	}
	if spooled {
		count(stats.Spooled)
	}
	if invalid != "" {
		reason, _, _ := strings.Cut(invalid, ":")
		received()
		h.Counters.Add(day, stats.Accepted, 1)
		h.Counters.Add(day, stats.DeadLettered, 1)
		count(stats.InvalidPayload)
		h.Counters.Add(day, stats.InvalidPrefix+reason, 1)
		h.Log.LogAttrs(ctx, slog.LevelWarn, "webhook kept for review: invalid payload", slog.String("id", id),
			slog.String("reason", invalid), slog.String("delivery_id", delivery), slog.Int64("account_id", account),
			slog.Bool("spooled", spooled))
		h.log(ctx, store.Delivery{ID: delivery, MessageID: id, AccountID: account, ReceivedAt: now, At: now,
			Outcome: store.DeliveryInvalid, Reason: invalid})
	}
	if h.OnAccepted != nil {
		h.OnAccepted(now)
	}
	h.Log.LogAttrs(ctx, slog.LevelDebug, "webhook accepted", slog.String("id", id), slog.String("event", p.Event),
		slog.String("delivery_id", delivery), slog.Int64("account_id", account),
		slog.Int64("conversation_id", p.ConversationID), slog.Bool("spooled", spooled))
	return reply(http.StatusAccepted, response{Status: "accepted", ID: id, Spooled: spooled, InvalidPayload: invalid != ""}), nil
}

// inspect reads what the edge needs of an authentic body, or says, as
// "<reason>: <detail>", why the processor could not decode it. The detail
// names fields and offsets, never content.
func inspect(req events.APIGatewayV2HTTPRequest, body []byte) (chatwoot.Head, string) {
	if len(body) == 0 {
		return chatwoot.Head{}, "empty: empty body"
	}
	if ct := apigw.Header(req, "content-type"); ct != "" && !isJSON(ct) {
		return chatwoot.Head{}, "content_type: content type is not JSON"
	}
	p, err := chatwoot.Check(body)
	reason := ""
	switch {
	case err == nil:
		return p, ""
	case errors.Is(err, chatwoot.ErrDuplicateKey):
		reason = "duplicate_key"
	case errors.Is(err, chatwoot.ErrTooDeep):
		reason = "too_deep"
	case errors.Is(err, chatwoot.ErrNoEvent):
		reason = "no_event"
	case errors.Is(err, chatwoot.ErrBadPayload):
		reason = "schema"
	default:
		reason = "not_json"
	}
	return chatwoot.Head{}, reason + ": " + runes.Truncate(err.Error(), 200)
}

// account resolves the event's account: the signed payload's when it names
// one, else the path's, else the default. The path is not signed: a path
// that disagrees with the payload means a misconfigured URL or a forged
// path, and is counted.
func (h *Handler) account(ctx context.Context, req events.APIGatewayV2HTTPRequest, signed int64, delivery string, count func(string)) int64 {
	path, ok := pathAccount(req)
	if !ok || signed > 0 && path > 0 && path != signed {
		count(stats.AccountMismatch)
		h.Log.LogAttrs(ctx, slog.LevelWarn, "path account disagrees with the signed payload; the payload's wins",
			slog.Int64("payload_account_id", signed), slog.String("path", safeID(req.RawPath)), slog.String("delivery_id", delivery))
	}
	switch {
	case signed > 0:
		return signed
	case ok && path > 0:
		return path
	}
	return h.DefaultAccount
}

// persist makes the event durable through send, by claim check when the
// queue cannot carry it, or in the spool when the queue fails. The spool
// is tried even after the request's context ended: the body is in hand and
// only durability decides the answer.
func (h *Handler) persist(ctx context.Context, send claim.SendFunc, body []byte, attrs map[string]string) (id string, spooled bool, err error) {
	timeout := h.EnqueueTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	if h.Claims != nil {
		id, _, err = h.Claims.Send(qctx, send, body, attrs)
	} else {
		id, err = send(qctx, body, attrs)
	}
	cancel()
	if err == nil {
		return id, false, nil
	}
	h.Log.LogAttrs(ctx, slog.LevelError, "enqueue failed", slog.String("error", err.Error()),
		slog.String("delivery_id", attrs[queue.AttrDelivery]))
	if h.Spool == nil {
		return "", false, err
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	id, serr := h.Spool.Put(sctx, body, attrs)
	if serr != nil {
		return "", false, errors.Join(err, serr)
	}
	return id, true, nil
}

func rawBody(req events.APIGatewayV2HTTPRequest) (body []byte, tooLarge bool, err error) {
	if req.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(req.Body)) > MaxBody+3 {
			return nil, true, nil
		}
		body, err = base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, false, err
		}
	} else {
		body = []byte(req.Body)
	}
	return body, len(body) > MaxBody, nil
}

// pathAccount reads the account id in the path: 0 when there is none, and
// false when it is not a positive integer.
func pathAccount(req events.APIGatewayV2HTTPRequest) (int64, bool) {
	s := req.PathParameters["account_id"]
	if s == "" {
		rest, ok := strings.CutPrefix(req.RawPath, "/webhooks/chatwoot/")
		if !ok || rest == "" {
			return 0, true
		}
		s = rest
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

func signatureReason(err error) string {
	switch {
	case errors.Is(err, chatwoot.ErrMissingSignature):
		return "missing_signature"
	case errors.Is(err, chatwoot.ErrMalformedSignature), errors.Is(err, chatwoot.ErrMalformedTimestamp):
		return "malformed_signature"
	case errors.Is(err, chatwoot.ErrStaleTimestamp):
		return "stale_timestamp"
	}
	return "bad_signature"
}

// maxIDLen bounds a delivery id that is stored and logged as it came.
// Chatwoot's are UUIDs (36 characters).
const maxIDLen = 64

// safeID returns s when it is a plausible id: at most maxIDLen letters,
// digits, '-', '_', '.' or ':'; anything else returns "". An 8 KB header
// must not become 8 KB of every log line and DLQ row.
func safeID(s string) string {
	if s == "" || len(s) > maxIDLen {
		return ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':') {
			return ""
		}
	}
	return s
}

// derivedID stands in for a missing or implausible delivery id: a function
// of the signed request, so the same request gets the same id.
func derivedID(ts, sig string) string {
	sum := sha256.Sum256([]byte(ts + "." + sig))
	return "derived-" + hex.EncodeToString(sum[:16])
}

func reply(code int, r response) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode: code,
		Headers:    map[string]string{"content-type": "application/json"},
		Body:       r.json(),
	}
}

// json is json.Marshal(r), written directly when no string needs escaping
// (an acknowledgement's never do).
func (r response) json() string {
	if !jsonstr.Plain(r.Status) || !jsonstr.Plain(r.ID) || !jsonstr.Plain(r.Error) {
		b, _ := json.Marshal(r)
		return string(b)
	}
	b := make([]byte, 0, 32+len(r.Status)+len(r.ID)+len(r.Error))
	b = append(b, `{"status":"`...)
	b = append(b, r.Status...)
	b = append(b, '"')
	if r.ID != "" {
		b = append(b, `,"id":"`...)
		b = append(b, r.ID...)
		b = append(b, '"')
	}
	if r.Ignored {
		b = append(b, `,"ignored":true`...)
	}
	if r.Spooled {
		b = append(b, `,"spooled":true`...)
	}
	if r.InvalidPayload {
		b = append(b, `,"invalid_payload":true`...)
	}
	if r.Error != "" {
		b = append(b, `,"error":"`...)
		b = append(b, r.Error...)
		b = append(b, '"')
	}
	return string(append(b, '}'))
}
