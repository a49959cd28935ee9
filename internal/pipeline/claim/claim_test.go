package claim_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/ports/blob"
	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/sqlitequeue"
)

func setup(t *testing.T) (*claim.Check, *sqlitequeue.Queue, blob.Bucket) {
	t.Helper()
	dir := t.TempDir()
	b, err := fileblob.New(filepath.Join(dir, "claims"))
	require.NoError(t, err)
	q, err := sqlitequeue.Open(t.Context(), filepath.Join(dir, "queue.db"), "events", sqlitequeue.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	return &claim.Check{Bucket: b, Prefix: "claims/"}, q, b
}

func TestSendThroughTheBucketOnlyWhatTheQueueCannotCarry(t *testing.T) {
	big := `{"event":"message_created","content":"` + strings.Repeat("x", queue.MaxMessageSize) + `"}`
	tests := []struct {
		name    string
		body    string
		claimed bool
	}{
		{"small", `{"event":"message_created"}`, false},
		{"over 1 MiB", big, true},
		{"U+FFFF", "{\"event\":\"message_created\",\"content\":\"\uFFFF\"}", true},
		{"a raw control character", "{\"event\":\"message_created\",\"content\":\"\x01\"}", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, q, b := setup(t)
			attrs := map[string]string{queue.AttrDelivery: "d1", queue.AttrEvent: "message_created"}
			_, claimed, err := c.Send(t.Context(), q.Send, []byte(tc.body), attrs)
			require.NoError(t, err)
			assert.Equal(t, tc.claimed, claimed)
			assert.NotContains(t, attrs, claim.Attr, "the caller's attributes are left alone")

			msgs, err := q.Receive(t.Context(), 10, time.Minute)
			require.NoError(t, err)
			require.Len(t, msgs, 1)
			m := msgs[0]
			assert.Equal(t, tc.claimed, claim.Claimed(m.Attributes))
			assert.Equal(t, "d1", m.Attributes[queue.AttrDelivery])
			got, err := c.Body(t.Context(), m.Body, m.Attributes)
			require.NoError(t, err)
			assert.Equal(t, tc.body, string(got), "the body comes back byte for byte")

			keys, err := b.List(t.Context(), "claims/", 0)
			require.NoError(t, err)
			if !tc.claimed {
				assert.Empty(t, keys)
				return
			}
			require.Len(t, keys, 1)
			assert.Equal(t, m.Attributes[claim.Attr], keys[0])
			require.NoError(t, c.Release(t.Context(), m.Attributes))
			keys, err = b.List(t.Context(), "claims/", 0)
			require.NoError(t, err)
			assert.Empty(t, keys, "released once the event is complete")
			_, err = c.Body(t.Context(), m.Body, m.Attributes)
			assert.ErrorIs(t, err, claim.ErrGone)
			assert.NoError(t, c.Release(t.Context(), m.Attributes), "releasing twice is harmless")
		})
	}
}

func TestDeadLetterByClaim(t *testing.T) {
	c, q, _ := setup(t)
	body := "{\"event\":\"message_created\",\"content\":\"\uFFFE\"}"
	send := func(ctx context.Context, b []byte, a map[string]string) (string, error) {
		return q.SendDeadLetter(ctx, b, a, "invalid_payload")
	}
	_, claimed, err := c.Send(t.Context(), send, []byte(body), map[string]string{queue.AttrDelivery: "d1"})
	require.NoError(t, err)
	assert.True(t, claimed)
	dls, err := q.ListDeadLetters(t.Context(), 10)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	got, err := c.Body(t.Context(), dls[0].Body, dls[0].Attributes)
	require.NoError(t, err)
	assert.Equal(t, body, string(got))
}

func TestTamperedObjectIsRefused(t *testing.T) {
	c, q, b := setup(t)
	body := strings.Repeat("y", queue.MaxMessageSize+1)
	_, _, err := c.Send(t.Context(), q.Send, []byte(body), nil)
	require.NoError(t, err)
	msgs, err := q.Receive(t.Context(), 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	require.NoError(t, b.Put(t.Context(), msgs[0].Attributes[claim.Attr], []byte("other"), "application/json"))
	_, err = c.Body(t.Context(), msgs[0].Body, msgs[0].Attributes)
	assert.ErrorContains(t, err, "do not match the ticket")
	_, err = c.Body(t.Context(), []byte(`{"claim_check":{"key":"claims/elsewhere"}}`), msgs[0].Attributes)
	assert.ErrorContains(t, err, "not the ticket")
}

type failingBucket struct{ blob.Bucket }

func (failingBucket) Put(context.Context, string, []byte, string) error {
	return errors.New("disk full")
}

func TestBucketFailureIsTheCallersToHandle(t *testing.T) {
	c, q, _ := setup(t)
	c.Bucket = failingBucket{}
	_, _, err := c.Send(t.Context(), q.Send, []byte(strings.Repeat("z", queue.MaxMessageSize+1)), nil)
	assert.ErrorContains(t, err, "disk full")
	d, derr := q.Depth(t.Context())
	require.NoError(t, derr)
	assert.Zero(t, d.Visible, "no ticket without its object")
}

func TestExpireKeepsWhatIsWithinRetention(t *testing.T) {
	c, _, b := setup(t)
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	old := now.Add(-claim.Retention - 24*time.Hour).Format(time.DateOnly)
	recent := now.Add(-claim.Retention + 24*time.Hour).Format(time.DateOnly)
	for _, k := range []string{"claims/" + old + "/a", "claims/" + recent + "/b", "claims/" + now.Format(time.DateOnly) + "/c"} {
		require.NoError(t, b.Put(t.Context(), k, []byte("x"), "application/json"))
	}
	n, err := c.Expire(t.Context(), now)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	keys, err := b.List(t.Context(), "claims/", 0)
	require.NoError(t, err)
	assert.Equal(t, []string{"claims/" + recent + "/b", "claims/" + now.Format(time.DateOnly) + "/c"}, keys)
}
