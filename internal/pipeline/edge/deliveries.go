package edge

import (
	"context"
	"log/slog"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ports/store"
)

// DeliveryLog is the part of the store's delivery log the edge writes.
type DeliveryLog interface {
	LogDeliveries(ctx context.Context, ds ...store.Delivery) error
}

// The edge logs (docs/deliveries.md) only the authentic webhooks nothing
// after it sees: an ignored event never reaches the queue, and an invalid
// payload goes straight to the DLQ. An accepted webhook costs the edge no
// write: the processor logs its outcome with its completion. A rejected
// request leaves nothing per request, by design: it is counted by reason
// and logged (the warning above) with its delivery id.

// logIgnored logs an authentic event of a kind the pipeline does not
// handle. Its ids are the signed payload's (its account, else the path's,
// else the default, as for an event that is queued).
func (h *Handler) logIgnored(ctx context.Context, req events.APIGatewayV2HTTPRequest, p chatwoot.Head, delivery string, now time.Time) {
	account := p.AccountID
	if account <= 0 {
		account = h.DefaultAccount
		if path, ok := pathAccount(req); ok && path > 0 {
			account = path
		}
	}
	h.log(ctx, store.Delivery{ID: delivery, Event: safeID(p.Event), AccountID: account, ConversationID: p.ConversationID,
		ReceivedAt: now, At: now, Outcome: store.DeliveryIgnored})
}

// log writes d, within the queue's time budget so the answer stays inside
// Chatwoot's timeout. The webhook's answer does not depend on it: the
// event is acknowledged (or kept) either way, and a lost entry is said in
// the function's log.
func (h *Handler) log(ctx context.Context, d store.Delivery) {
	if h.Deliveries == nil {
		return
	}
	timeout := h.EnqueueTimeout
	if timeout <= 0 {
		timeout = 2 * time.Second
	}
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	if err := h.Deliveries.LogDeliveries(lctx, d); err != nil {
		h.Log.LogAttrs(ctx, slog.LevelError, "delivery log not written", slog.String("outcome", d.Outcome),
			slog.String("delivery_id", d.ID), slog.String("error", err.Error()))
	}
}
