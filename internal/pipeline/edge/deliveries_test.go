package edge_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/pipeline/edge/edgetest"
	"supportpipe/internal/ports/store"
)

// TestDeliveryLog: the edge logs the authentic webhooks it answers without
// queueing (ignored, invalid), and nothing for what it queues (the
// processor logs those) or rejects (nothing unproven is kept).
func TestDeliveryLog(t *testing.T) {
	forged := edgetest.Request("not-our-secret", fixture(t, "02_message_created_incoming.json"), now, "d-forged")
	unsigned := edgetest.Request(secret, fixture(t, "02_message_created_incoming.json"), now, "d-unsigned")
	delete(unsigned.Headers, chatwoot.HeaderSignature)
	delete(unsigned.Headers, chatwoot.HeaderTimestamp)
	tests := []struct {
		name string
		req  events.APIGatewayV2HTTPRequest
		code int
		want []store.Delivery // MessageID checked apart
	}{
		{"accepted: logged by the processor", edgetest.Request(secret, fixture(t, "02_message_created_incoming.json"), now, "d-ok"), 202, nil},
		{"ignored", edgetest.Request(secret, fixture(t, "10_conversation_typing_on.json"), now, "d-typing"), 202, []store.Delivery{{
			ID: "d-typing", Event: "conversation_typing_on", AccountID: 1, ReceivedAt: now, At: now, // Check reads no ids of an unknown kind
			Outcome: store.DeliveryIgnored}}},
		{"invalid, kept", edgetest.Request(secret, []byte(`{"event":"message_created",`), now, "d-bad"), 202, []store.Delivery{{
			ID: "d-bad", AccountID: 1, ReceivedAt: now, At: now, Outcome: store.DeliveryInvalid,
			Reason: "not_json: body is not a JSON object"}}},
		{"forged", forged, 401, nil},
		{"unsigned", unsigned, 401, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.st.SetClock(func() time.Time { return now })
			e.h.Deliveries = e.st
			resp, err := e.h.Handle(context.Background(), tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.code, resp.StatusCode, resp.Body)
			page, err := e.st.Deliveries(context.Background(), store.DeliveryQuery{})
			require.NoError(t, err)
			got := page.Deliveries
			for i := range got {
				got[i].At, got[i].ReceivedAt = got[i].At.UTC(), got[i].ReceivedAt.UTC()
				if tc.want[i].Outcome == store.DeliveryInvalid {
					dls, err := e.q.ListDeadLetters(context.Background(), 10)
					require.NoError(t, err)
					require.Len(t, dls, 1)
					assert.Equal(t, dls[0].ID, got[i].MessageID, "an invalid payload's entry names its dead letter")
				}
				got[i].MessageID = ""
			}
			assert.Equal(t, tc.want, got)
		})
	}
}

// TestDeliveryLogFailureKeepsTheAnswer: an entry that cannot be written
// does not change what Chatwoot is told.
func TestDeliveryLogFailureKeepsTheAnswer(t *testing.T) {
	e := newEnv(t)
	e.h.Deliveries = brokenLog{}
	resp, err := e.h.Handle(context.Background(), edgetest.Request(secret, fixture(t, "10_conversation_typing_on.json"), now, "d"))
	require.NoError(t, err)
	assert.Equal(t, 202, resp.StatusCode)
}

type brokenLog struct{}

func (brokenLog) LogDeliveries(context.Context, ...store.Delivery) error {
	return context.DeadlineExceeded
}
