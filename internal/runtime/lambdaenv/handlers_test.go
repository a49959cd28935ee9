package lambdaenv

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"supportpipe/internal/ports/queue"
)

// TestRecordRoundTrip: a queue message survives its SQS event record.
func TestRecordRoundTrip(t *testing.T) {
	m := queue.Message{ID: "m1", ReceiptHandle: "r1", Body: []byte(`{"event":"message_created"}`),
		Attributes: map[string]string{queue.AttrDelivery: "d1", queue.AttrAccount: "7"}, ReceiveCount: 3,
		SentAt: time.UnixMilli(1796000000123).UTC()}
	assert.Equal(t, m, Message(Record(m)))
}
