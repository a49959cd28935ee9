package main

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// event is one distinct Chatwoot webhook body.
type event struct{ body []byte }

// send is one POST: an event under a delivery id.
type send struct {
	event    int
	delivery string
	body     []byte
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

// generate makes n events over n/20 conversations: each conversation is
// created, has customer messages and agent replies, a label update and is
// resolved. Times are in the last two hours, so SLAs run too.
func generate(n int, rng *rand.Rand) []event {
	convs := max(n/20, 1)
	base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	var out []event
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
			text := calm[rng.IntN(len(calm))]
			if rng.Float64() < 0.1 {
				text = angry[rng.IntN(len(angry))]
			}
			body = messageBody(msgID, conv, "incoming", text, at, vip)
		default:
			body = messageBody(msgID, conv, "outgoing", "Thanks for writing, we're on it.", at, vip)
		}
		out = append(out, event{body: []byte(body)})
	}
	return out
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

func messageBody(id, conv int64, kind, text string, at time.Time, vip bool) string {
	sender := contact(vip)
	if kind == "outgoing" {
		sender = `{"id":31,"name":"Agent","type":"user"}`
	}
	return fmt.Sprintf(`{"event":"message_created","id":%d,"content":%q,"content_type":"text","message_type":%q,"private":false,`+
		`"created_at":%q,"account":{"id":7,"name":"Chaos"},"inbox":{"id":4,"name":"Web"},"sender":%s,"conversation":%s}`,
		id, text, kind, at.UTC().Format(time.RFC3339Nano), sender, conversationJSON(conv, "open", `[]`, at, vip))
}

// plan shuffles the events and adds duplicates (same delivery id, sent again
// later) and Chatwoot re-emissions (same body, new delivery id).
func plan(events []event, o options, rng *rand.Rand) []send {
	var out []send
	for i, e := range events {
		out = append(out, send{event: i, delivery: fmt.Sprintf("chaos-%d", i), body: e.body})
	}
	rng.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	n := len(out)
	for k := 0; k < int(float64(len(events))*o.dup); k++ {
		s := out[rng.IntN(n)]
		out = append(out, s)
	}
	for k := 0; k < int(float64(len(events))*o.reemit); k++ {
		s := out[rng.IntN(n)]
		s.delivery += fmt.Sprintf("-reemit-%d", k)
		out = append(out, s)
	}
	// Copies go anywhere after the first quarter, so most come well after
	// their original, some close to it.
	tail := out[n/4:]
	rng.Shuffle(len(tail), func(i, j int) { tail[i], tail[j] = tail[j], tail[i] })
	return out
}
