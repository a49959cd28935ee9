// Package drafts routes customer messages that need a reply to the AI
// drafting agent as draft requests on the drafts queue. The request schema
// is documented in docs/drafts.md.
package drafts

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"supportpipe/internal/jsonstr"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/support/runes"
)

// Schema names the request format; bump it on an incompatible change.
const Schema = "supportpipe.draft_request/v1"

// Request asks the drafting agent for a reply to one customer message.
type Request struct {
	Schema         string  `json:"schema"`
	ID             string  `json:"id"` // stable per message: the agent can deduplicate on it
	AccountID      int64   `json:"account_id"`
	ConversationID int64   `json:"conversation_id"`
	InboxID        int64   `json:"inbox_id,omitempty"`
	Message        Message `json:"message"`
	// ContactName is the customer's name, for a reply's greeting; omitted
	// when unknown.
	ContactName string    `json:"contact_name,omitempty"`
	Tags        []string  `json:"tags"`
	AngerScore  float64   `json:"anger_score"`
	Angry       bool      `json:"angry"`
	VIP         bool      `json:"vip"`
	SLA         SLA       `json:"sla"`
	RequestedAt time.Time `json:"requested_at"`
}

// Message is the customer message to answer.
type Message struct {
	ID      int64  `json:"id"`
	Content string `json:"content"`
	// Truncated says Content is the first MaxContentRunes characters of a
	// longer message.
	Truncated bool      `json:"content_truncated,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// MaxContentRunes bounds the message text a request carries, as tagging and
// anger bound what they read: a reply is drafted from the start of a
// message, and a 1 MiB email must neither burst the queue's message size
// nor cost the drafting agent a megabyte of prompt.
const MaxContentRunes = 20_000

// SLA is the first-response clock of the waiting period.
type SLA struct {
	State string    `json:"state"`
	DueAt time.Time `json:"due_at,omitzero"`
}

// RequestID is the request id for a message.
func RequestID(account, conversation, message int64) string {
	return fmt.Sprintf("draft:%d:%d:%d", account, conversation, message)
}

// Sender is the drafts queue.
type Sender interface {
	Send(ctx context.Context, body []byte, attrs map[string]string) (string, error)
}

// Enqueue sends r on the queue and returns the queue message id. Its times
// go in UTC within the years JSON can hold, so no time fails the encoding.
func Enqueue(ctx context.Context, q Sender, r Request) (string, error) {
	r.Schema = Schema
	if r.Tags == nil {
		r.Tags = []string{}
	}
	r.Message.CreatedAt, r.SLA.DueAt, r.RequestedAt = jsonstr.Time(r.Message.CreatedAt), jsonstr.Time(r.SLA.DueAt), jsonstr.Time(r.RequestedAt)
	if cut, ok := runes.Prefix(r.Message.Content, MaxContentRunes); ok {
		r.Message.Content, r.Message.Truncated = cut, true
	}
	body, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("encode draft request: %w", err)
	}
	body = queue.SafeJSON(body)
	id, err := q.Send(ctx, body, map[string]string{"schema": Schema, "request_id": r.ID})
	if err != nil {
		return "", fmt.Errorf("enqueue draft request: %w", err)
	}
	return id, nil
}
