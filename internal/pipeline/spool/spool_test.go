package spool

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/pipeline/claim"
	"supportpipe/internal/pipeline/edge"
	"supportpipe/internal/ports/blob"
	"supportpipe/internal/ports/blob/fileblob"
	"supportpipe/internal/ports/blob/s3blob"
	"supportpipe/internal/ports/queue"
)

var _ edge.Spool = (*Spool)(nil)

// backends returns a new empty bucket of each driver.
var backends = []struct {
	name string
	open func(t *testing.T) blob.Bucket
}{
	{"fileblob", func(t *testing.T) blob.Bucket {
		b, err := fileblob.New(t.TempDir())
		require.NoError(t, err)
		return b
	}},
	{"s3blob", func(t *testing.T) blob.Bucket {
		srv := httptest.NewServer(gofakes3.New(s3mem.New()).Server())
		t.Cleanup(srv.Close)
		c := s3.New(s3.Options{
			Region:       "us-east-1",
			Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
			BaseEndpoint: aws.String(srv.URL),
			UsePathStyle: true,
		})
		_, err := c.CreateBucket(t.Context(), &s3.CreateBucketInput{Bucket: aws.String("spool")})
		require.NoError(t, err)
		return s3blob.New(c, "spool", s3blob.Options{})
	}},
}

// each runs f on a new spool in every backend, with a clock the test moves.
func each(t *testing.T, f func(t *testing.T, s *Spool, b blob.Bucket, clock *time.Time)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			b := be.open(t)
			clock := time.Date(2026, 11, 28, 23, 59, 59, 0, time.FixedZone("CET", 3600))
			s := New(b, "spool/")
			s.SetClock(func() time.Time { return clock })
			f(t, s, b, &clock)
		})
	}
}

type sent struct {
	body   string
	attrs  map[string]string
	reason string // set for dead letters
}

// target is a queue that records what it takes. fail says whether a send
// of body, the nth call (from 1), fails; down makes Depth fail too.
type target struct {
	got, dead []sent
	calls     int
	fail      func(body string, call int) bool
	down      bool
}

func (q *target) Send(_ context.Context, body []byte, attrs map[string]string) (string, error) {
	q.calls++
	if err := queue.Fits(body, attrs); err != nil {
		return "", err
	}
	if q.fail != nil && q.fail(string(body), q.calls) {
		return "", errors.New("queue unavailable")
	}
	q.got = append(q.got, sent{body: string(body), attrs: attrs})
	return "msg-" + strconv.Itoa(q.calls), nil
}

func (q *target) SendDeadLetter(_ context.Context, body []byte, attrs map[string]string, reason string) (string, error) {
	if q.down {
		return "", errors.New("queue unavailable")
	}
	if err := queue.Fits(body, attrs); err != nil {
		return "", err
	}
	q.dead = append(q.dead, sent{body: string(body), attrs: attrs, reason: reason})
	return "dlq-" + strconv.Itoa(len(q.dead)), nil
}

func (q *target) Depth(context.Context) (queue.Depth, error) {
	if q.down {
		return queue.Depth{}, errors.New("queue unavailable")
	}
	return queue.Depth{}, nil
}

func attrs(delivery string) map[string]string {
	return map[string]string{"delivery_id": delivery, "event": "message_created", "chatwoot_signature": "sha256=ab"}
}

func keys(t *testing.T, b blob.Bucket) []string {
	t.Helper()
	k, err := b.List(t.Context(), "", 0)
	require.NoError(t, err)
	return k
}

func TestPutLayout(t *testing.T) {
	each(t, func(t *testing.T, s *Spool, b blob.Bucket, _ *time.Time) {
		body := `{"content":"<b>héllo</b> 👋 \u003c"}`
		id, err := s.Put(t.Context(), []byte(body), attrs("d1"))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(id, "20261128T225959.000000000Z-"), id)
		require.Equal(t, []string{"spool/2026-11-28/" + id + ".json"}, keys(t, b), "one object per event, under its UTC day")

		data, err := b.Get(t.Context(), "spool/2026-11-28/"+id+".json")
		require.NoError(t, err)
		assert.Contains(t, string(data), `"body":"{\"content\":\"<b>héllo</b> 👋 \\u003c\"}"`, "the body is a JSON string")
		var r map[string]any
		require.NoError(t, json.Unmarshal(data, &r))
		assert.Equal(t, body, r["body"])
		assert.Equal(t, id, r["id"])
		assert.Equal(t, "2026-11-28T22:59:59Z", r["spooled_at"])
		assert.Equal(t, map[string]any{"delivery_id": "d1", "event": "message_created", "chatwoot_signature": "sha256=ab"}, r["attributes"])
		oldest, err := s.Oldest(t.Context())
		require.NoError(t, err)
		assert.Equal(t, time.Date(2026, 11, 28, 22, 59, 59, 0, time.UTC), oldest)
	})
}

// TestInvalidUTF8IsKept: an authentic body the edge keeps for review may
// not be UTF-8; the spool keeps its bytes as they came, and the claim check
// carries them to the DLQ.
func TestInvalidUTF8IsKept(t *testing.T) {
	each(t, func(t *testing.T, s *Spool, b blob.Bucket, _ *time.Time) {
		s.Claims = &claim.Check{Bucket: b, Prefix: "claims/"}
		body := []byte{'{', 0xff, '}'}
		_, err := s.Put(t.Context(), body, map[string]string{queue.AttrInvalid: "not_json: …"})
		require.NoError(t, err)
		q := &target{}
		d, err := s.Drain(t.Context(), q, 0)
		require.NoError(t, err)
		assert.Equal(t, 1, d.Sent)
		assert.Empty(t, q.got, "an invalid payload goes to the DLQ, not to the processor")
		require.Len(t, q.dead, 1)
		got, err := s.Claims.Body(t.Context(), []byte(q.dead[0].body), q.dead[0].attrs)
		require.NoError(t, err)
		assert.Equal(t, body, got)
	})
}

func TestDrain(t *testing.T) {
	bodies := []string{
		`{"n":0,"content":"first 👍🏽"}`,
		`{"n":1,"content":"\u003cscript\u003e"}`,
		`{"n":2,"content":"` + strings.Repeat("long ", 20000) + `"}`,
		`{"n":3}`,
	}
	from := func(first int) func(string, int) bool { return func(_ string, call int) bool { return call >= first } }
	tests := []struct {
		name      string
		max       int
		fail      func(body string, call int) bool
		down      bool
		wantSent  []int // indexes into bodies
		wantCalls int
		blamed    []int // events whose failure counts against them
		wantErr   string
	}{
		{"all", 0, nil, false, []int{0, 1, 2, 3}, 4, nil, ""},
		{"max", 2, nil, false, []int{0, 1}, 2, nil, ""},
		{"max beyond", 10, nil, false, []int{0, 1, 2, 3}, 4, nil, ""},
		{"queue down: stops after three failures and blames no one", 0, from(1), true, nil, 3, nil, "queue unavailable"},
		{"queue goes down", 0, from(3), true, []int{0, 1}, 4, nil, "queue unavailable"},
		{"one refused event does not block the rest, and is blamed", 0,
			func(body string, _ int) bool { return body == bodies[1] }, false, []int{0, 2, 3}, 4, []int{1}, "queue unavailable"},
		{"three refused in a row with the queue up: the drain goes on", 0,
			func(body string, _ int) bool { return body != bodies[3] }, false, []int{3}, 4, []int{0, 1, 2}, "queue unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			each(t, func(t *testing.T, s *Spool, b blob.Bucket, clock *time.Time) {
				for i, body := range bodies {
					if i == 2 {
						*clock = clock.Add(2 * time.Hour) // the next UTC day
					}
					_, err := s.Put(t.Context(), []byte(body), attrs("d"+strconv.Itoa(i)))
					require.NoError(t, err)
					*clock = clock.Add(time.Millisecond)
				}
				q := &target{fail: tc.fail, down: tc.down}
				d, err := s.Drain(t.Context(), q, tc.max)
				if tc.wantErr != "" {
					assert.ErrorContains(t, err, tc.wantErr)
				} else {
					assert.NoError(t, err)
				}
				assert.Equal(t, len(tc.wantSent), d.Sent)
				assert.Equal(t, tc.wantCalls, q.calls)
				assert.Equal(t, len(bodies)-len(tc.wantSent), d.Waiting)
				require.Len(t, q.got, len(tc.wantSent))
				left := map[int]bool{0: true, 1: true, 2: true, 3: true}
				for i, g := range q.got {
					assert.Equal(t, bodies[tc.wantSent[i]], g.body, "oldest first, byte for byte")
					assert.Equal(t, attrs("d"+strconv.Itoa(tc.wantSent[i])), g.attrs)
					delete(left, tc.wantSent[i])
				}
				if len(left) > 0 {
					assert.False(t, d.Oldest.IsZero(), "the oldest waiting event is reported")
				}

				// A blamed event waits its backoff; the others are tried at
				// the next drain, which sends them.
				q = &target{}
				d, err = s.Drain(t.Context(), q, 0)
				require.NoError(t, err)
				assert.Equal(t, len(left)-len(tc.blamed), d.Sent)
				assert.Equal(t, len(tc.blamed), d.Waiting)
				*clock = clock.Add(DefaultBackoff)
				d, err = s.Drain(t.Context(), q, 0)
				require.NoError(t, err)
				assert.Equal(t, len(tc.blamed), d.Sent, "sent once its backoff has passed")
				for _, g := range q.got {
					i := slices.Index(bodies, g.body)
					assert.True(t, left[i], "only what was left is sent again")
					delete(left, i)
				}
				assert.Empty(t, keys(t, b), "drained spool is empty")
				assert.Empty(t, q.dead)
			})
		})
	}
}

// TestPoisonGoesToTheDLQ: an event the queue keeps refusing while it takes
// the others leaves the spool for the DLQ after MaxAttempts, with the last
// error, and never holds back the events behind it.
func TestPoisonGoesToTheDLQ(t *testing.T) {
	each(t, func(t *testing.T, s *Spool, b blob.Bucket, clock *time.Time) {
		s.MaxAttempts = 4
		poison := func(body string, _ int) bool { return strings.Contains(body, "poison") }
		for i := range 3 {
			_, err := s.Put(t.Context(), []byte(`{"poison":`+strconv.Itoa(i)+`}`), attrs("p"+strconv.Itoa(i)))
			require.NoError(t, err)
			*clock = clock.Add(time.Millisecond)
		}
		q := &target{fail: poison}
		for round := range 12 {
			_, err := s.Put(t.Context(), []byte(`{"innocent":`+strconv.Itoa(round)+`}`), attrs("i"+strconv.Itoa(round)))
			require.NoError(t, err)
			before := len(q.got)
			_, _ = s.Drain(t.Context(), q, 0)
			assert.Equal(t, before+1, len(q.got), "round %d: the innocent event is sent at its first drain", round)
			*clock = clock.Add(maxBackoff)
		}
		require.Len(t, q.dead, 3)
		for i, d := range q.dead {
			assert.Equal(t, `{"poison":`+strconv.Itoa(i)+`}`, d.body)
			assert.Equal(t, "spool: queue unavailable", d.reason)
			assert.Equal(t, attrs("p"+strconv.Itoa(i)), d.attrs)
		}
		assert.Empty(t, keys(t, b))
		oldest, err := s.Oldest(t.Context())
		require.NoError(t, err)
		assert.True(t, oldest.IsZero())
	})
}

func TestUnreadableObjectGoesToTheDLQ(t *testing.T) {
	each(t, func(t *testing.T, s *Spool, b blob.Bucket, _ *time.Time) {
		require.NoError(t, b.Put(t.Context(), "spool/2026-11-27/broken.json", []byte("{not json"), ""))
		require.NoError(t, b.Put(t.Context(), "other/x.json", []byte("{}"), ""))
		_, err := s.Put(t.Context(), []byte(`{"ok":true}`), nil)
		require.NoError(t, err)
		q := &target{}
		d, err := s.Drain(t.Context(), q, 0)
		require.NoError(t, err)
		assert.Equal(t, 1, d.Sent)
		assert.Equal(t, 1, d.DeadLettered)
		require.Len(t, q.dead, 1)
		assert.Equal(t, "{not json", q.dead[0].body, "kept for review as it was")
		assert.Equal(t, "spool/2026-11-27/broken.json", q.dead[0].attrs["spool_key"])
		assert.Equal(t, []string{"other/x.json"}, keys(t, b), "objects outside the prefix are not the spool's")
	})
}

func TestClaimCheckOnDrain(t *testing.T) {
	each(t, func(t *testing.T, s *Spool, b blob.Bucket, _ *time.Time) {
		s.Claims = &claim.Check{Bucket: b, Prefix: "claims/"}
		body := `{"content":"` + strings.Repeat("x", queue.MaxMessageSize) + `"}`
		_, err := s.Put(t.Context(), []byte(body), attrs("d"))
		require.NoError(t, err)
		_, err = s.Put(t.Context(), []byte("{\"c\":\"\uFFFF\"}"), map[string]string{queue.AttrInvalid: "schema: x"})
		require.NoError(t, err)
		q := &target{}
		d, err := s.Drain(t.Context(), q, 0)
		require.NoError(t, err)
		assert.Equal(t, 2, d.Sent)
		require.Len(t, q.got, 1)
		require.Len(t, q.dead, 1)
		got, err := s.Claims.Body(t.Context(), []byte(q.got[0].body), q.got[0].attrs)
		require.NoError(t, err)
		assert.Equal(t, body, string(got))
		assert.Equal(t, queue.InvalidPayload, q.dead[0].reason)
		got, err = s.Claims.Body(t.Context(), []byte(q.dead[0].body), q.dead[0].attrs)
		require.NoError(t, err)
		assert.Equal(t, "{\"c\":\"\uFFFF\"}", string(got))
	})
}
