// Package traffic generates a realistic stream of Chatwoot webhooks: whole
// conversations (created, customer messages, agent replies, a label update,
// resolved), shuffled, with duplicate deliveries and Chatwoot re-emissions.
// The chaos harness and the cost measurement send it.
package traffic

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// Event is one distinct Chatwoot webhook body.
type Event struct {
	Body []byte
	// Poison is the kind of poison the event is (Poisoner), or "" for
	// ordinary traffic.
	Poison string
}

// Send is one POST: an event (its index) under a delivery id.
type Send struct {
	Event    int
	Delivery string
	Body     []byte
}

var angry = []string{
	"This is the worst service ever, I want a refund NOW or I file a chargeback!!!",
	"Unacceptable. Third time I'm asking. I'll leave a bad review everywhere.",
}

var calm = []string{
	"Hi, where is my order? The tracking has not moved since Friday.",
	"Could you send me the invoice for last month please?",
	"I can't log in to my account, the reset link does not arrive.",
	"Thanks, that worked!",
}

// Generate makes n events over n/20 conversations: each conversation is
// created, has customer messages and agent replies, a label update and is
// resolved. Times are in the last two hours, so SLAs run too.
func Generate(n int, rng *rand.Rand) []Event {
	convs := max(n/20, 1)
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	var out []Event
	msgID := int64(5_000_000)
	for c := 0; len(out) < n; c = (c + 1) % convs {
		conv := int64(70_000 + c)
		vip := c%20 == 0
		step := len(out) / convs
		at := base.Add(time.Duration(step)*time.Minute + time.Duration(c)*time.Second)
		msgID++
		var body string
		switch {
		case step == 0:
			body = conversationBody("conversation_created", conv, "open", `[]`, at, vip)
		case step == 19:
			body = conversationBody("conversation_status_changed", conv, "resolved", `["billing"]`, at, vip)
		case step == 10:
			body = conversationBody("conversation_updated", conv, "open", `["billing"]`, at, vip)
		case step%2 == 1:
			body = messageBody(msgID, conv, "incoming", customerText(rng), labelsAt(step), at, vip)
		default:
			body = messageBody(msgID, conv, "outgoing", "Thanks for writing, we're on it.", labelsAt(step), at, vip)
		}
		out = append(out, Event{Body: []byte(body)})
	}
	return out
}

// customerText is what a customer writes: calm, or angry one time in ten.
func customerText(rng *rand.Rand) string {
	text := calm[rng.IntN(len(calm))]
	if rng.Float64() < 0.1 {
		text = angry[rng.IntN(len(angry))]
	}
	return text
}

// Probe is a customer's first message, opening conversation conv at at:
// an ordinary message whose processing can be watched on its own, since
// nothing else happens in its conversation.
func Probe(msgID, conv int64, at time.Time, rng *rand.Rand) Event {
	return Event{Body: []byte(messageBody(msgID, conv, "incoming", customerText(rng), `[]`, at, false))}
}

// labelsAt is the conversation's labels as Chatwoot sends them with a
// message at a step: from the label update at step 10 on, "billing".
func labelsAt(step int) string {
	if step > 10 {
		return `["billing"]`
	}
	return `[]`
}

func contact(vip bool) string {
	attrs := `{}`
	if vip {
		attrs = `{"vip":true}`
	}
	return fmt.Sprintf(`{"id":9001,"name":"Customer","email":"customer@example.net","custom_attributes":%s}`, attrs)
}

func conversationJSON(conv int64, status, labels string, at time.Time, vip bool) string {
	return fmt.Sprintf(`{"id":%d,"inbox_id":4,"status":%q,"labels":%s,"updated_at":%d.%06d,"created_at":%d,"messages":[],`+
		`"meta":{"sender":%s,"assignee":null,"team":null}}`, conv, status, labels, at.Unix(), at.Nanosecond()/1000, at.Unix(), contact(vip))
}

func conversationBody(event string, conv int64, status, labels string, at time.Time, vip bool) string {
	c := conversationJSON(conv, status, labels, at, vip)
	return c[:len(c)-1] + fmt.Sprintf(`,"event":%q,"changed_attributes":null}`, event)
}

func messageBody(id, conv int64, kind, text, labels string, at time.Time, vip bool) string {
	sender := contact(vip)
	if kind == "outgoing" {
		sender = `{"id":31,"name":"Agent","type":"user"}`
	}
	return fmt.Sprintf(`{"event":"message_created","id":%d,"content":%q,"content_type":"text","message_type":%q,"private":false,`+
		`"created_at":%q,"account":{"id":7,"name":"Chaos"},"inbox":{"id":4,"name":"Web"},"sender":%s,"conversation":%s}`,
		id, text, kind, at.UTC().Format(time.RFC3339Nano), sender, conversationJSON(conv, "open", labels, at, vip))
}

// Plan shuffles the events and adds duplicates (same delivery id, sent again
// later; a fraction dup of the events) and Chatwoot re-emissions (same body,
// new delivery id; a fraction reemit).
func Plan(events []Event, dup, reemit float64, rng *rand.Rand) []Send {
	var out []Send
	for i, e := range events {
		out = append(out, Send{Event: i, Delivery: fmt.Sprintf("chaos-%d", i), Body: e.Body})
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	n := len(out)
	for k := 0; k < int(float64(len(events))*dup); k++ {
		s := out[rng.IntN(n)]
		out = append(out, s)
	}
	for k := 0; k < int(float64(len(events))*reemit); k++ {
		s := out[rng.IntN(n)]
		s.Delivery += fmt.Sprintf("-reemit-%d", k)
		out = append(out, s)
	}
	// Copies go anywhere after the first quarter, so most come well after
	// their original, some close to it.
	tail := out[n/4:]
	rng.Shuffle(len(tail), func(i, j int) { tail[i], tail[j] = tail[j], tail[i] })
	return out
}
