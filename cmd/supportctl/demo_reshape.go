package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"supportpipe/internal/chatwoot"
)

// anchor is a message body's time: its top-level created_at.
func anchor(body []byte) time.Time {
	var m struct {
		CreatedAt time.Time `json:"created_at"`
	}
	_ = json.Unmarshal(body, &m)
	return m.CreatedAt
}

// shiftTo moves every time by the same amount, so that from becomes to.
func shiftTo(from, to time.Time) func(time.Time) time.Time {
	d := to.Sub(from)
	return func(t time.Time) time.Time { return t.Add(d) }
}

// between maps a body's times so that a becomes a2 and b becomes b2: times
// up to a shift with a, later ones are scaled into [a2, b2]. An agent reply
// keeps its conversation's customer time and answers when asked.
func between(a, a2, b, b2 time.Time) func(time.Time) time.Time {
	return func(t time.Time) time.Time {
		if !t.After(a) || !b.After(a) {
			return t.Add(a2.Sub(a))
		}
		f := float64(t.Sub(a)) / float64(b.Sub(a))
		return a2.Add(time.Duration(f * float64(b2.Sub(a2))))
	}
}

// reshape rewrites a corpus body as another conversation's: its ids, its
// customer, its text and its times; the structure stays Chatwoot's.
type reshape struct {
	conv, msg int64
	who       customer
	text      string // the message's new content; "" keeps it
	at        func(time.Time) time.Time

	fromConv, fromMsg int64
}

func (r reshape) apply(body []byte) ([]byte, error) {
	h, err := chatwoot.Check(body)
	if err != nil {
		return nil, fmt.Errorf("corpus body: %w", err)
	}
	r.fromConv = h.ConversationID
	if h.Kind == chatwoot.KindMessage {
		r.fromMsg = h.ID
	} else {
		r.fromMsg = -1
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	v = r.walk("", v)
	out, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	got, err := chatwoot.Check(out)
	if err != nil {
		return nil, fmt.Errorf("reshaped body: %w", err)
	}
	if got.ConversationID != r.conv {
		return nil, fmt.Errorf("reshaped body: conversation %d, want %d", got.ConversationID, r.conv)
	}
	return out, nil
}

func (r reshape) walk(key string, v any) any {
	switch x := v.(type) {
	case map[string]any:
		// A message is re-texted by its original id, before the ids change.
		isMsg := false
		if id, ok := x["id"].(json.Number); ok && x["content"] != nil {
			n, _ := id.Int64()
			isMsg = n == r.fromMsg || r.fromMsg == -1 && x["message_type"] == json.Number("0")
		}
		for k, e := range x {
			x[k] = r.walk(k, e)
		}
		if isMsg && r.text != "" {
			x["content"], x["processed_message_content"] = r.text, r.text
		}
		if isContact(x) {
			x["id"], x["name"], x["email"] = json.Number(fmt.Sprint(r.who.id)), r.who.name, r.who.email
			attrs := map[string]any{}
			for k, a := range r.who.attrs {
				attrs[k] = a
			}
			x["custom_attributes"] = attrs
		}
		if x["sender_type"] == "Contact" {
			x["sender_id"] = json.Number(fmt.Sprint(r.who.id))
		}
		if _, ok := x["labels"]; ok && r.who.labels != nil {
			labels := make([]any, len(r.who.labels))
			for i, l := range r.who.labels {
				labels[i] = l
			}
			x["labels"] = labels
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = r.walk(key, e)
		}
		return x
	case json.Number:
		return r.number(key, x)
	case string:
		if timeKey(key) {
			if t, err := time.Parse(time.RFC3339Nano, x); err == nil {
				return r.at(t).UTC().Format("2006-01-02T15:04:05.000Z")
			}
		}
		return x
	}
	return v
}

func (r reshape) number(key string, n json.Number) any {
	if i, err := n.Int64(); err == nil {
		switch {
		case key == "id" && i == r.fromConv, key == "conversation_id" && i == r.fromConv:
			return json.Number(fmt.Sprint(r.conv))
		case key == "id" && i == r.fromMsg:
			return json.Number(fmt.Sprint(r.msg))
		case key == "contact_id":
			return json.Number(fmt.Sprint(r.who.id))
		case timeKey(key) && i > 1e9:
			return json.Number(fmt.Sprint(r.at(time.Unix(i, 0)).Unix()))
		}
		return n
	}
	if f, err := n.Float64(); err == nil && timeKey(key) && f > 1e9 {
		t := r.at(time.Unix(0, int64(f*1e9)))
		return json.Number(fmt.Sprintf("%.6f", float64(t.UnixMicro())/1e6))
	}
	return n
}

// isContact reports whether an object is a contact: the pushed form says
// so, Contact#webhook_data (a message's sender) has no type but a contact's
// fields.
func isContact(x map[string]any) bool {
	if t, ok := x["type"]; ok {
		return t == "contact"
	}
	_, email := x["email"]
	_, phone := x["phone_number"]
	_, attrs := x["custom_attributes"]
	return email && phone && attrs
}

// timeKey reports whether a key holds a time in Chatwoot's payloads.
func timeKey(k string) bool {
	return strings.HasSuffix(k, "_at") || k == "timestamp" || k == "waiting_since"
}
