// Package ingest is the webhook edge: it verifies Chatwoot's signature over
// the raw body, rejects what is malformed, and acknowledges an event only once
// it is durable in the queue (or, when the queue fails, in the spool).
package ingest

import (
	"context"
	"encoding/base64"
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
	"supportpipe/internal/queue"
	"supportpipe/internal/stats"
)

// MaxBody is the largest body accepted (1 MiB), as in the contract.
const MaxBody = 1 << 20

// Sender is the part of the queue the edge needs.
type Sender interface {
	Send(ctx context.Context, body []byte, attrs map[string]string) (string, error)
}

// Spool keeps an event durable when the queue cannot take it; a sweeper
// re-enqueues spooled events later.
type Spool interface {
	Put(ctx context.Context, body []byte, attrs map[string]string) (string, error)
}

// Counter receives counter increments (stats.Recorder).
type Counter interface {
	Add(day, name string, n int64)
}

// Handler handles POST /webhooks/chatwoot[/{account_id}] as an API Gateway
// HTTP API (payload v2) event.
type Handler struct {
	Verifier *chatwoot.Verifier
	Queue    Sender
	Spool    Spool // optional
	Counters Counter
	Log      *slog.Logger
	Now      func() time.Time
	// EnqueueTimeout bounds the queue call (SDK retries included) so the whole
	// request stays well inside Chatwoot's 5 s timeout.
	EnqueueTimeout time.Duration
	// DefaultAccount is used when neither the path nor the payload names one.
	DefaultAccount int64
	// OnAccepted, if set, is called with the receive time of each durable event.
	OnAccepted func(time.Time)
	// Replays, if set, rejects a signature seen before (per process).
	Replays *ReplayCache
	// Metrics, if set, receives the same counts as Counters (EMF on Lambda).
	Metrics Metrics
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
	Status  string `json:"status"`
	ID      string `json:"id,omitempty"`
	Ignored bool   `json:"ignored,omitempty"`
	Spooled bool   `json:"spooled,omitempty"`
	Error   string `json:"error,omitempty"`
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
	reject := func(code int, reason string, msg string) (events.APIGatewayV2HTTPResponse, error) {
		h.Counters.Add(day, stats.Received, 1)
		h.Counters.Add(day, stats.Rejected, 1)
		h.Counters.Add(day, stats.RejectedPrefix+reason, 1)
		if h.Metrics != nil {
			h.Metrics.Reject(reason)
		}
		h.Log.LogAttrs(ctx, slog.LevelWarn, "webhook rejected", slog.String("reason", reason), slog.Int("status", code),
			slog.String("delivery_id", safeID(apigw.Header(req, chatwoot.HeaderDelivery))))
		return reply(code, response{Status: "rejected", Error: msg}), nil
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
		return reject(http.StatusRequestEntityTooLarge, "too_large", "body exceeds 1 MiB")
	}
	account, ok := pathAccount(req)
	if !ok {
		return reject(http.StatusBadRequest, "account", "account id in path must be a positive integer")
	}
	sigs := apigw.Header(req, chatwoot.HeaderSignature)
	ts := apigw.Header(req, chatwoot.HeaderTimestamp)
	if err := h.Verifier.Verify(ts, sigs, body, now); err != nil {
		return reject(http.StatusUnauthorized, signatureReason(err), err.Error())
	}
	if len(body) == 0 {
		return reject(http.StatusBadRequest, "empty", "empty body")
	}
	if ct := apigw.Header(req, "content-type"); ct != "" && !isJSON(ct) {
		return reject(http.StatusUnsupportedMediaType, "content_type", "content type must be application/json")
	}
	if h.Replays != nil && h.Replays.Seen(apigw.Header(req, chatwoot.HeaderDelivery), sigs, now) {
		// The same delivery id and signature (so the same timestamp and
		// body) is a captured request sent again: Chatwoot re-signs every
		// attempt, and a re-emission carries a new delivery id.
		return reject(http.StatusConflict, "replay", "request already received")
	}
	// The edge only needs the verdict and the ids: the processor decodes.
	p, err := chatwoot.Check(body)
	switch {
	case errors.Is(err, chatwoot.ErrDuplicateKey):
		return reject(http.StatusBadRequest, "duplicate_key", err.Error())
	case errors.Is(err, chatwoot.ErrTooDeep):
		return reject(http.StatusBadRequest, "too_deep", err.Error())
	case errors.Is(err, chatwoot.ErrNoEvent):
		return reject(http.StatusBadRequest, "no_event", err.Error())
	case errors.Is(err, chatwoot.ErrBadPayload):
		return reject(http.StatusBadRequest, "schema", err.Error())
	case err != nil:
		return reject(http.StatusBadRequest, "not_json", err.Error())
	}
	delivery := apigw.Header(req, chatwoot.HeaderDelivery)
	if p.Kind == chatwoot.KindUnknown {
		h.Counters.Add(day, stats.Received, 1)
		count(stats.Ignored)
		h.Log.LogAttrs(ctx, slog.LevelInfo, "webhook ignored", slog.String("event", safeID(p.Event)),
			slog.String("delivery_id", safeID(delivery)))
		return reply(http.StatusAccepted, response{Status: "accepted", ID: safeID(delivery), Ignored: true}), nil
	}
	if account == 0 {
		account = p.AccountID
	}
	if account == 0 {
		account = h.DefaultAccount
	}
	attrs := map[string]string{
		queue.AttrDelivery:   delivery,
		queue.AttrTimestamp:  ts,
		queue.AttrSignature:  sigs,
		queue.AttrReceivedAt: now.UTC().Format(time.RFC3339Nano),
		queue.AttrEvent:      p.Event,
		queue.AttrAccount:    strconv.FormatInt(account, 10),
	}
	id, spooled, err := h.persist(ctx, body, attrs)
	if err != nil {
		// Both the queue and the spool failed: Chatwoot will not retry, so
		// this is a loss and is counted as one.
		h.Counters.Add(day, stats.Received, 1)
		count(stats.Lost)
		h.Log.LogAttrs(ctx, slog.LevelError, "webhook lost: queue and spool failed",
			slog.String("delivery_id", safeID(delivery)), slog.String("error", err.Error()))
		return reply(http.StatusServiceUnavailable, response{Status: "error", Error: "temporarily unavailable"}), nil
	}
	if spooled {
		count(stats.Spooled)
	}
	if h.OnAccepted != nil {
		h.OnAccepted(now)
	}
	h.Log.LogAttrs(ctx, slog.LevelDebug, "webhook accepted", slog.String("id", id), slog.String("event", p.Event),
		slog.String("delivery_id", safeID(delivery)), slog.Int64("account_id", account),
		slog.Int64("conversation_id", p.ConversationID), slog.Bool("spooled", spooled))
	return reply(http.StatusAccepted, response{Status: "accepted", ID: id, Spooled: spooled}), nil
}

func (h *Handler) persist(ctx context.Context, body []byte, attrs map[string]string) (id string, spooled bool, err error) {
	timeout := h.EnqueueTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	qctx, cancel := context.WithTimeout(ctx, timeout)
	id, err = h.Queue.Send(qctx, body, attrs)
	cancel()
	if err == nil {
		return id, false, nil
	}
	h.Log.LogAttrs(ctx, slog.LevelError, "enqueue failed", slog.String("error", err.Error()),
		slog.String("delivery_id", safeID(attrs[queue.AttrDelivery])))
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

// safeID keeps ids loggable: short, printable, nothing that could smuggle a payload.
func safeID(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
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
	if r.Error != "" {
		b = append(b, `,"error":"`...)
		b = append(b, r.Error...)
		b = append(b, '"')
	}
	return string(append(b, '}'))
}
