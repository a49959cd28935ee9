package queuetest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"supportpipe/internal/ports/queue"
)

// limits checks that every driver refuses what SQS refuses, with
// queue.ErrUnfit and nothing stored, and takes what SQS takes.
func (s *suite) limits(t *testing.T) {
	q := s.open(t)
	attrs := eventAttributes()
	size := 0
	for k, v := range nonEmpty(attrs) {
		size += len(k) + len("String") + len(v)
	}
	atLimit := strings.Repeat("a", queue.MaxMessageSize-size)
	refused := []struct {
		name  string
		body  string
		attrs map[string]string
	}{
		{"one byte over with attributes", atLimit + "a", attrs},
		{"raw U+FFFE", "{\"c\":\"\uFFFE\"}", attrs},
		{"raw U+FFFF", "{\"c\":\"\uFFFF\"}", attrs},
		{"control character", "{\"c\":\"\x01\"}", attrs},
		{"invalid UTF-8", "{\"c\":\"\xff\"}", attrs},
		{"empty body", "", attrs},
		{"control character in an attribute", `{}`, with(attrs, queue.AttrDelivery, "a\x00b")},
	}
	for _, tc := range refused {
		_, err := q.Send(t.Context(), []byte(tc.body), tc.attrs)
		assert.ErrorIs(t, err, queue.ErrUnfit, "Send: %s", tc.name)
		_, err = q.SendDeadLetter(t.Context(), []byte(tc.body), tc.attrs, "r")
		assert.ErrorIs(t, err, queue.ErrUnfit, "SendDeadLetter: %s", tc.name)
	}
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.Depth)), "nothing refused was stored")
	assert.Equal(t, queue.Depth{}, counts(depth(t, q.DLQDepth)), "nothing refused was stored")

	// JSON's escape of U+FFFF is plain ASCII; U+FFFD and the three
	// control characters SQS allows go through raw.
	for _, body := range []string{atLimit, `{"c":"\uffff"}`, "{\"c\":\"\uFFFD\t\r\n\U0001F600\"}"} {
		send(t, q, body, attrs)
	}
	got := receiveN(t, q, 3, long)
	lens := map[int]bool{}
	for _, m := range got {
		lens[len(m.Body)] = true
	}
	assert.True(t, lens[len(atLimit)], "a message of exactly the limit, attributes included, is taken whole")
}
