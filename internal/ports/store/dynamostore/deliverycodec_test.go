package dynamostore

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/store"
)

func TestEntryCodec(t *testing.T) {
	at := time.Date(2026, 12, 6, 22, 53, 36, 123456789, time.UTC)
	full := store.Delivery{ID: "3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41", MessageID: "5fb5b46e-6a54-4cf5-8e8f-4a3a2f5b9b6e",
		Event: "message_created", AccountID: 7, ConversationID: 1423, ReceivedAt: at.Add(-time.Second), At: at,
		Outcome: store.DeliveryDeadLettered, Reason: "stage support: chatwoot api: 502", Attempt: 3,
		Processing: 250 * time.Millisecond, Redriven: true, Backfilled: true}
	tests := []struct {
		name string
		ds   []store.Delivery
	}{
		{"every field", []store.Delivery{full}},
		{"ids kept as they came", []store.Delivery{
			{ID: "3B0E6F6A-7C4D-4A8E-9D55-0C2F1E8B7A41", MessageID: "m-00000001", At: at, Outcome: store.DeliveryProcessed},
			{ID: "derived-0123456789abcdef0123456789abcdef", MessageID: "derived-0123", At: at.Add(-time.Hour), Outcome: store.DeliveryIgnored},
			{ID: "", MessageID: "", At: at.Add(time.Hour), Outcome: store.DeliveryInvalid},
		}},
		{"names no table knows", []store.Delivery{{ID: "d", Event: "inbox_created", At: at, Outcome: "surprised"}}},
		{"negative and zero numbers", []store.Delivery{{ID: "d", AccountID: -1, At: time.Unix(0, 0).UTC(), Outcome: store.DeliveryFailed}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := decodeEntries(encodeEntries(tc.ds))
			require.NoError(t, err)
			assert.Equal(t, tc.ds, got)
		})
	}
}

// TestEntryCodecSize: a processor batch of ten ordinary entries, with ids
// as Chatwoot and SQS spell them, fits one write unit with its keys.
func TestEntryCodecSize(t *testing.T) {
	at := time.Now().UTC()
	var ds []store.Delivery
	for i := range 10 {
		ds = append(ds, store.Delivery{ID: fmt.Sprintf("3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a%02d", i),
			MessageID: fmt.Sprintf("5fb5b46e-6a54-4cf5-8e8f-4a3a2f5b9b%02d", i), Event: "message_created",
			AccountID: 1, ConversationID: 1_000_000 + int64(i), ReceivedAt: at.Add(-1200 * time.Millisecond),
			At: at.Add(time.Duration(i) * time.Millisecond), Outcome: store.DeliveryProcessed, Processing: 180 * time.Millisecond})
	}
	n := len(encodeEntries(ds))
	assert.LessOrEqual(t, n, 600, "ten entries")
	keys := len("pk") + len(timelinePK("2026-12-06", "")) + len("sk") + 19 + 1 + 16 + len(attrEntries) + len(attrTTL) + 6
	assert.LessOrEqual(t, n+keys, 1024, "one write unit")
}

func TestEntryCodecRefusesGarbage(t *testing.T) {
	good := encodeEntries([]store.Delivery{{ID: "3b0e6f6a-7c4d-4a8e-9d55-0c2f1e8b7a41", Event: "message_created",
		At: time.Now(), Reason: "boom", Outcome: store.DeliveryFailed}})
	for _, b := range [][]byte{nil, {9}, good[:len(good)-3], append(append([]byte{}, good[:2]...), 0xff, 0xff)} {
		_, err := decodeEntries(b)
		assert.Error(t, err, "%x", b)
	}
}
