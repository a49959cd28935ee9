package chatwoot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Time accepts every time encoding Chatwoot mixes in one payload: ISO-8601
// strings (message created_at), integer epochs where 0 means "none"
// (conversation created_at, waiting_since) and float epochs (conversation
// updated_at). The zero value means "no time".
type Time struct {
	time.Time
	// Reported is the time the payload carried when Clamp replaced it as
	// implausible; zero otherwise.
	Reported time.Time
}

// Plausible event times lie from 2000 to a day past the webhook's arrival.
// Payloads have carried 9999-12-31 and epoch 1: placeholders or bugs, on
// which SLA and wait math would run for millennia or go negative. A day
// ahead allows for any clock skew between Chatwoot and us.
var earliestEvent = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const maxAhead = 24 * time.Hour

// Clamp replaces an implausible time (before 2000, or more than a day after
// receivedAt) with receivedAt and keeps the original in Reported. The zero
// time means "none" and stays.
func (t *Time) Clamp(receivedAt time.Time) {
	if t.IsZero() || !t.Before(earliestEvent) && !t.After(receivedAt.Add(maxAhead)) {
		return
	}
	t.Reported, t.Time = t.Time, receivedAt.UTC()
}

// ClampTimes clamps every time of the payload (Time.Clamp) before anything
// measures with them. receivedAt is when the webhook arrived; now stands in
// when it is unknown (zero).
func (p *Payload) ClampTimes(receivedAt, now time.Time) {
	if receivedAt.IsZero() {
		receivedAt = now
	}
	if p.Message != nil {
		p.Message.clampTimes(receivedAt)
	}
	if p.Conversation != nil {
		p.Conversation.clampTimes(receivedAt)
	}
}

func (m *Message) clampTimes(receivedAt time.Time) {
	m.CreatedAt.Clamp(receivedAt)
	m.UpdatedAt.Clamp(receivedAt)
	if m.Conversation != nil {
		m.Conversation.clampTimes(receivedAt)
	}
}

func (c *Conversation) clampTimes(receivedAt time.Time) {
	for _, t := range []*Time{&c.FirstReplyCreatedAt, &c.WaitingSince, &c.CreatedAt, &c.UpdatedAt, &c.LastActivityAt} {
		t.Clamp(receivedAt)
	}
	for i := range c.Messages {
		c.Messages[i].clampTimes(receivedAt)
	}
}

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || string(b) == "null" {
		t.Time = time.Time{}
		return nil
	}
	if b[0] == '"' {
		s, ok := unquote(b)
		if !ok {
			return fmt.Errorf("chatwoot: time is not a JSON string")
		}
		return t.parseString(s)
	}
	return t.parseNumber(string(b))
}

func (t *Time) parseString(s string) error {
	if s == "" {
		t.Time = time.Time{}
		return nil
	}
	if s[0] >= '0' && s[0] <= '9' && !strings.ContainsAny(s, "-:T") {
		return t.parseNumber(s)
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -0700"} {
		if v, err := time.Parse(layout, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return fmt.Errorf("chatwoot: unrecognised time %q", truncate(s, 40))
}

func (t *Time) parseNumber(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return fmt.Errorf("chatwoot: invalid epoch %q", truncate(s, 40))
	}
	// Beyond year 9999 the value is garbage, not a time.
	if f < 0 || f > 253402300799 {
		return fmt.Errorf("chatwoot: epoch out of range %q", truncate(s, 40))
	}
	if f == 0 {
		t.Time = time.Time{}
		return nil
	}
	sec, frac := math.Modf(f)
	// Float epochs carry microseconds; round so 1778577267.604113 stays .604113.
	t.Time = time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC()
	return nil
}

// MarshalJSON writes RFC 3339 or null.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.Time.UTC().Format(time.RFC3339Nano))
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
