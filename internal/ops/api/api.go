// Package api serves the read side under /support/*: health, the queue view,
// stats, conversation lookups and the dashboard tile. It is the API
// function's logic and the local server routes the same requests through it.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"supportpipe/internal/apigw"
	"supportpipe/internal/jsonstr"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/escalation"
	"supportpipe/internal/support/sla"
)

// Handler serves /support/* as API Gateway HTTP API events.
type Handler struct {
	Store store.Store
	// Token is the bearer token for reads, or several, comma-separated, so
	// that old and new are both valid while readers move to the new one;
	// empty denies every protected read.
	Token string
	Log   *slog.Logger
	Now   func() time.Time
	// Extra routes (health, queue, tile) keyed by path; they decide on auth themselves.
	Routes map[string]Route
	// Policy evaluates the conversation's SLA in lookups.
	Policy sla.Policy
	// Offline is true when Chatwoot is not called (CHATWOOT_LIVE is not
	// true): lookups then say that the Chatwoot actions were recorded, not
	// sent.
	Offline bool
	// Account is the account of a delivery log query by conversation that
	// names none (CHATWOOT_ACCOUNT_ID).
	Account int64
}

// Route is an extra endpoint. Public routes skip the bearer check.
type Route struct {
	Public bool
	Serve  func(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse
}

// Handle implements the API function.
func (h *Handler) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx = context.WithValue(ctx, logKey{}, h.Log)
	method := req.RequestContext.HTTP.Method
	path := req.RawPath
	if method != http.MethodGet && method != http.MethodHead {
		r := apigw.JSON(http.StatusMethodNotAllowed, errorBody("method not allowed"))
		r.Headers["allow"] = "GET"
		return r, nil
	}
	if rt, ok := h.Routes[path]; ok {
		if !rt.Public && !h.authorized(req) {
			return unauthorized(), nil
		}
		return rt.Serve(ctx, req), nil
	}
	if !strings.HasPrefix(path, "/support/") {
		return apigw.JSON(http.StatusNotFound, errorBody("not found")), nil
	}
	if !h.authorized(req) {
		return unauthorized(), nil
	}
	switch {
	case path == "/support/stats":
		return h.stats(ctx, req), nil
	case path == "/support/deliveries":
		return h.deliveries(ctx, req), nil
	case strings.HasPrefix(path, "/support/conversations/"):
		return h.conversation(ctx, strings.TrimPrefix(path, "/support/conversations/")), nil
	}
	return apigw.JSON(http.StatusNotFound, errorBody("not found")), nil
}

// authorized compares hashes so the comparison takes the same time whatever
// the token length.
func (h *Handler) authorized(req events.APIGatewayV2HTTPRequest) bool {
	if h.Token == "" {
		return false
	}
	got, ok := strings.CutPrefix(apigw.Header(req, "authorization"), "Bearer ")
	if !ok {
		return false
	}
	a := sha256.Sum256([]byte(got))
	ok = false
	// Every token is compared, so timing tells nothing of which matched.
	for _, t := range strings.Split(h.Token, ",") {
		if t = strings.TrimSpace(t); t == "" {
			continue
		}
		b := sha256.Sum256([]byte(t))
		ok = subtle.ConstantTimeCompare(a[:], b[:]) == 1 || ok
	}
	return ok
}

func (h *Handler) stats(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	day := req.QueryStringParameters["date"]
	if day == "" {
		day = stats.Day(h.Now())
	} else if _, err := time.Parse(time.DateOnly, day); err != nil {
		return apigw.JSON(http.StatusBadRequest, errorBody("date must be YYYY-MM-DD"))
	}
	c, err := h.Store.Counters(ctx, day)
	if err != nil {
		h.Log.ErrorContext(ctx, "stats read failed", "error", err)
		return apigw.JSON(http.StatusInternalServerError, errorBody("stats unavailable"))
	}
	return respond(ctx, http.StatusOK, stats.Summarise(day, c), slog.String("response", "stats"))
}

// ConversationView is the contract shape of GET /support/conversations/{a}/{c}.
type ConversationView struct {
	AccountID              int64        `json:"account_id"`
	ConversationID         int64        `json:"conversation_id"`
	InboxID                int64        `json:"inbox_id,omitempty"`
	Status                 string       `json:"status"`
	Priority               string       `json:"priority,omitempty"`
	Labels                 []string     `json:"labels"`
	Tags                   []string     `json:"tags"`
	AppliedLabels          []string     `json:"applied_labels"`
	AssigneeID             int64        `json:"assignee_id,omitempty"`
	TeamID                 int64        `json:"team_id,omitempty"`
	FirstCustomerMessageAt *time.Time   `json:"first_customer_message_at"`
	FirstResponseAt        *time.Time   `json:"first_response_at"`
	FirstResponseSeconds   *float64     `json:"first_response_seconds"`
	SLA                    *sla.Record  `json:"sla"`
	SLAPeriods             []sla.Record `json:"sla_periods"`
	EscalationReasons      []string     `json:"escalation_reasons"`
	Actions                []ActionView `json:"actions"`
	// Chatwoot is "live" or "offline": whether this deployment sends its
	// Chatwoot actions or only records them.
	Chatwoot   string     `json:"chatwoot"`
	Waiting    bool       `json:"waiting"`
	SnapshotAt *time.Time `json:"snapshot_at"`
}

func (h *Handler) conversation(ctx context.Context, rest string) events.APIGatewayV2HTTPResponse {
	parts := strings.Split(strings.Trim(rest, "/"), "/")
	if len(parts) != 2 {
		return apigw.JSON(http.StatusNotFound, errorBody("not found"))
	}
	a, err1 := strconv.ParseInt(parts[0], 10, 64)
	c, err2 := strconv.ParseInt(parts[1], 10, 64)
	if err1 != nil || err2 != nil || a <= 0 || c <= 0 {
		return apigw.JSON(http.StatusBadRequest, errorBody("account and conversation ids must be positive integers"))
	}
	k := conversation.Key{AccountID: a, ConversationID: c}
	st, ok, err := h.Store.Conversation(ctx, k)
	if err != nil {
		h.Log.ErrorContext(ctx, "conversation read failed", "error", err)
		return apigw.JSON(http.StatusInternalServerError, errorBody("conversation unavailable"))
	}
	if !ok {
		return apigw.JSON(http.StatusNotFound, errorBody("conversation not found"))
	}
	acts, err := h.Store.Actions(ctx, k)
	if err != nil {
		h.Log.ErrorContext(ctx, "actions read failed", "error", err)
		return apigw.JSON(http.StatusInternalServerError, errorBody("conversation unavailable"))
	}
	v := View(st, acts, h.Policy, h.Now())
	v.MarkOffline(h.Offline)
	return respond(ctx, http.StatusOK, v, slog.String("response", "conversation"),
		slog.Int64("account_id", a), slog.Int64("conversation_id", c))
}

// View renders a stored state and its actions in the contract shape. Its
// times are within the years JSON can hold (jsonstr.Time).
func View(st conversation.State, acts []store.Action, policy sla.Policy, now time.Time) ConversationView {
	v := ConversationView{
		AccountID: st.AccountID, ConversationID: st.ConversationID, InboxID: st.InboxID,
		Status: st.Status, Priority: st.Priority, Labels: nonNil(st.Labels), Tags: []string{}, AppliedLabels: []string{},
		AssigneeID: st.AssigneeID, TeamID: st.TeamID, EscalationReasons: nonNil(escalation.Reasons(acts)),
		Actions: make([]ActionView, len(acts)), Chatwoot: "live", Waiting: st.WaitingForFirstResponse(), SLAPeriods: []sla.Record{},
	}
	for i, a := range acts {
		a.At, a.Updated = jsonstr.Time(a.At), jsonstr.Time(a.Updated)
		v.Actions[i] = ActionView{Action: a}
	}
	for _, a := range acts {
		var d struct {
			Add []string `json:"add"`
		}
		if a.Kind == "label" && json.Unmarshal([]byte(a.Detail), &d) == nil {
			for _, l := range d.Add {
				if !slices.Contains(v.AppliedLabels, l) {
					v.AppliedLabels = append(v.AppliedLabels, l)
				}
				if l != escalation.Label && !slices.Contains(v.Tags, l) {
					v.Tags = append(v.Tags, l)
				}
			}
		}
	}
	if !st.FirstCustomerMessageAt.IsZero() {
		t := jsonstr.Time(st.FirstCustomerMessageAt)
		v.FirstCustomerMessageAt = &t
	}
	if !st.FirstResponseAt.IsZero() {
		t := jsonstr.Time(st.FirstResponseAt)
		secs := st.FirstResponseTime().Seconds()
		v.FirstResponseAt, v.FirstResponseSeconds = &t, &secs
	}
	if !st.SnapshotAt.IsZero() {
		t := jsonstr.Time(st.SnapshotAt)
		v.SnapshotAt = &t
	}
	if policy.Calendar != nil {
		v.SLAPeriods = policy.Track(&st, now)
		for i := range v.SLAPeriods {
			v.SLAPeriods[i] = recordJSONTimes(v.SLAPeriods[i])
		}
		if n := len(v.SLAPeriods); n > 0 {
			cur := v.SLAPeriods[n-1]
			v.SLA = &cur
		}
	}
	return v
}

// ActionView is an action as lookups show it.
type ActionView struct {
	store.Action
	// Sent is false on an action that calls Chatwoot (labels, priority,
	// team, notes) while Chatwoot is offline: its "done" means recorded,
	// not sent. Absent otherwise.
	Sent *bool `json:"sent,omitempty"`
}

// chatwootKinds are the action kinds whose effect is a Chatwoot call
// (stages, escalation, drafter); the others are this pipeline's own
// records (draft requests, SLA breaches, escalation day records).
var chatwootKinds = map[string]bool{"label": true, "priority": true, "team": true, "note": true, "draft_note": true}

// MarkOffline makes a view say, when offline, that its Chatwoot actions
// were recorded and not sent. The mode is the deployment's now: actions
// recorded before it went live still read as sent.
func (v *ConversationView) MarkOffline(offline bool) {
	if !offline {
		return
	}
	v.Chatwoot = "offline"
	no := false
	for i := range v.Actions {
		if chatwootKinds[v.Actions[i].Kind] {
			v.Actions[i].Sent = &no
		}
	}
}

// recordJSONTimes moves a record's times within the years JSON can hold.
func recordJSONTimes(r sla.Record) sla.Record {
	r.Start, r.Due, r.RespondedAt, r.ResolvedAt = jsonstr.Time(r.Start), jsonstr.Time(r.Due), jsonstr.Time(r.RespondedAt), jsonstr.Time(r.ResolvedAt)
	if w := r.NextResponse; w != nil {
		r.NextResponse = &sla.Wait{Since: jsonstr.Time(w.Since), Due: jsonstr.Time(w.Due), RespondedAt: jsonstr.Time(w.RespondedAt), State: w.State}
	}
	return r
}

// respond encodes v as the body. A value JSON cannot hold is a 500, logged
// with the ids given and never with the value: a 200 with an empty body
// reads as success to every client.
func respond(ctx context.Context, code int, v any, ids ...slog.Attr) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		logger(ctx).LogAttrs(ctx, slog.LevelError, "response not encoded", append(ids, slog.String("error", err.Error()))...)
		return apigw.JSON(http.StatusInternalServerError, errorBody("response could not be encoded"))
	}
	return apigw.JSON(code, json.RawMessage(b))
}

// logKey carries the handler's logger to the extra routes, whose
// constructors take none.
type logKey struct{}

func logger(ctx context.Context) *slog.Logger {
	if l, ok := ctx.Value(logKey{}).(*slog.Logger); ok && l != nil {
		return l
	}
	return slog.Default()
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func errorBody(msg string) map[string]string { return map[string]string{"error": msg} }

func unauthorized() events.APIGatewayV2HTTPResponse {
	r := apigw.JSON(http.StatusUnauthorized, errorBody("missing or invalid bearer token"))
	r.Headers["www-authenticate"] = `Bearer realm="support"`
	return r
}
