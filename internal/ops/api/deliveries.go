package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"supportpipe/internal/apigw"
	"supportpipe/internal/jsonstr"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// Outcomes GET /support/deliveries answers from the day counters only: the
// edge keeps nothing per request it turns away (docs/deliveries.md).
const (
	OutcomeRejected = "rejected"
	OutcomeRefused  = "refused"
)

// DeliveriesView is the contract shape of GET /support/deliveries.
type DeliveriesView struct {
	Deliveries []DeliveryView `json:"deliveries"`
	// NextCursor continues the list (?cursor=); absent on the last page.
	NextCursor string `json:"next_cursor,omitempty"`
	// Since is where the window starts: the query's, or the retention's.
	Since time.Time `json:"since"`
	// Rejected and Refused count the requests the edge turned away, by
	// reason, over the whole UTC days the window touches; they come on the
	// first page of a query that is not about one conversation or delivery.
	Rejected *TurnedAway `json:"rejected,omitempty"`
	Refused  *TurnedAway `json:"refused,omitempty"`
}

// DeliveryView is one entry of the delivery log.
type DeliveryView struct {
	DeliveryID     string     `json:"delivery_id"`
	MessageID      string     `json:"message_id,omitempty"`
	Event          string     `json:"event,omitempty"`
	AccountID      int64      `json:"account_id,omitempty"`
	ConversationID int64      `json:"conversation_id,omitempty"`
	ReceivedAt     *time.Time `json:"received_at"`
	At             time.Time  `json:"at"`
	Outcome        string     `json:"outcome"`
	Reason         string     `json:"reason,omitempty"`
	Attempt        int        `json:"attempt,omitempty"`
	ProcessingMS   float64    `json:"processing_ms"`
	Redriven       bool       `json:"redriven,omitempty"`
	Backfilled     bool       `json:"backfilled,omitempty"`
}

// TurnedAway is a count of requests the edge did not keep, by reason.
type TurnedAway struct {
	Total   int64            `json:"total"`
	Reasons map[string]int64 `json:"reasons"`
	Days    []string         `json:"days"`
}

// DeliveriesQuery is a parsed GET /support/deliveries.
type DeliveriesQuery struct {
	store.DeliveryQuery
	// Outcome is the log's filter, or OutcomeRejected or OutcomeRefused,
	// which only the counters answer.
	Outcome string
}

// ParseDeliveriesQuery reads the query parameters of GET /support/deliveries
// (supportctl events builds the same): conversation and account, delivery,
// since (RFC 3339, a day YYYY-MM-DD, or an age: 90m, 24h, 7d), outcome,
// limit and cursor. A conversation without an account is the default
// account's, as an event that names none is.
func ParseDeliveriesQuery(p map[string]string, defaultAccount int64, now time.Time) (DeliveriesQuery, error) {
	var q DeliveriesQuery
	if c := p["conversation"]; c != "" {
		conv, err := positive("conversation", c)
		if err != nil {
			return q, err
		}
		account := defaultAccount
		if a := p["account"]; a != "" {
			if account, err = positive("account", a); err != nil {
				return q, err
			}
		}
		if account <= 0 {
			return q, errors.New("conversation needs an account (no default account is configured)")
		}
		q.Conversation = &conversation.Key{AccountID: account, ConversationID: conv}
	} else if p["account"] != "" {
		return q, errors.New("account is only read with a conversation")
	}
	if d := p["delivery"]; d != "" {
		if len(d) > 128 {
			return q, errors.New("delivery is not a delivery id")
		}
		q.Delivery = d
	}
	since, err := ParseSince(p["since"], now)
	if err != nil {
		return q, err
	}
	q.Since = since
	q.Outcome = p["outcome"]
	switch {
	case q.Outcome == OutcomeRejected, q.Outcome == OutcomeRefused:
	case store.ValidDeliveryFilter(q.Outcome):
		q.DeliveryQuery.Outcome = q.Outcome
	default:
		return q, fmt.Errorf("outcome must be one of %s, %s, %s, %s", strings.Join(store.DeliveryOutcomes, ", "),
			store.DeliveryRedriven, OutcomeRejected, OutcomeRefused)
	}
	if l := p["limit"]; l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > store.MaxDeliveryPage {
			return q, fmt.Errorf("limit must be 1 to %d", store.MaxDeliveryPage)
		}
		q.Limit = n
	}
	q.Cursor = p["cursor"]
	return q, nil
}

// ParseSince reads a window's start: RFC 3339, a UTC day (YYYY-MM-DD), or
// an age before now (a Go duration, or days: 7d). Empty is the zero time:
// as far back as the log keeps.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	age, err := time.ParseDuration(s)
	if days, ok := strings.CutSuffix(s, "d"); ok && err != nil {
		n, derr := strconv.Atoi(days)
		age, err = time.Duration(n)*24*time.Hour, derr
	}
	if err != nil || age < 0 {
		return time.Time{}, errors.New("since must be a time (RFC 3339), a day (YYYY-MM-DD) or an age (90m, 24h, 7d)")
	}
	return now.Add(-age), nil
}

func positive(name, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("%s must be a positive integer", name)
	}
	return n, nil
}

// Deliveries answers q from the log and, for what the edge turned away,
// from the day counters.
func Deliveries(ctx context.Context, s store.Store, q DeliveriesQuery, now time.Time) (DeliveriesView, error) {
	win := q.Window(now)
	v := DeliveriesView{Deliveries: []DeliveryView{}, Since: jsonstr.Time(win.Since)}
	if q.Outcome != OutcomeRejected && q.Outcome != OutcomeRefused {
		page, err := s.Deliveries(ctx, q.DeliveryQuery)
		if err != nil {
			return v, err
		}
		for _, d := range page.Deliveries {
			v.Deliveries = append(v.Deliveries, deliveryView(d))
		}
		v.NextCursor = page.Next
	}
	if q.Cursor != "" || q.Conversation != nil || q.Delivery != "" {
		return v, nil
	}
	var err error
	if q.Outcome == "" || q.Outcome == OutcomeRejected {
		if v.Rejected, err = turnedAway(ctx, s, stats.Rejected, stats.RejectedPrefix, win.Since, now); err != nil {
			return v, err
		}
	}
	if q.Outcome == "" || q.Outcome == OutcomeRefused {
		if v.Refused, err = turnedAway(ctx, s, stats.Refused, stats.RefusedPrefix, win.Since, now); err != nil {
			return v, err
		}
	}
	return v, nil
}

func deliveryView(d store.Delivery) DeliveryView {
	v := DeliveryView{DeliveryID: d.ID, MessageID: d.MessageID, Event: d.Event, AccountID: d.AccountID, ConversationID: d.ConversationID,
		At: jsonstr.Time(d.At), Outcome: d.Outcome, Reason: d.Reason, Attempt: d.Attempt,
		ProcessingMS: float64(d.Processing.Microseconds()) / 1000, Redriven: d.Redriven, Backfilled: d.Backfilled}
	if !d.ReceivedAt.IsZero() {
		t := jsonstr.Time(d.ReceivedAt)
		v.ReceivedAt = &t
	}
	return v
}

// turnedAway adds up a counter and its reasons over the days from since's
// to now's.
func turnedAway(ctx context.Context, s store.Store, total, prefix string, since, now time.Time) (*TurnedAway, error) {
	out := &TurnedAway{Reasons: map[string]int64{}, Days: []string{}}
	for d := since.UTC(); stats.Day(d) <= stats.Day(now); d = d.AddDate(0, 0, 1) {
		day := stats.Day(d)
		c, err := s.Counters(ctx, day)
		if err != nil {
			return nil, err
		}
		out.Days = append(out.Days, day)
		out.Total += c[total]
		for name, n := range c {
			if reason, ok := strings.CutPrefix(name, prefix); ok {
				out.Reasons[reason] += n
			}
		}
	}
	return out, nil
}

// deliveries serves GET /support/deliveries.
func (h *Handler) deliveries(ctx context.Context, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	now := h.Now()
	q, err := ParseDeliveriesQuery(req.QueryStringParameters, h.Account, now)
	if err != nil {
		return apigw.JSON(http.StatusBadRequest, errorBody(err.Error()))
	}
	v, err := Deliveries(ctx, h.Store, q, now)
	if errors.Is(err, store.ErrBadCursor) {
		return apigw.JSON(http.StatusBadRequest, errorBody("cursor is not one this list gave"))
	}
	if err != nil {
		h.Log.ErrorContext(ctx, "delivery log read failed", "error", err)
		return apigw.JSON(http.StatusInternalServerError, errorBody("delivery log unavailable"))
	}
	return respond(ctx, http.StatusOK, v, slog.String("response", "deliveries"))
}
