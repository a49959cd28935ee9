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

	"supportpipe/internal/blob"
	"supportpipe/internal/blob/fileblob"
	"supportpipe/internal/blob/s3blob"
	"supportpipe/internal/ingest"
)

var _ ingest.Spool = (*Spool)(nil)

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
			s.now = func() time.Time { return clock }
			f(t, s, b, &clock)
		})
	}
}

type sent struct {
	body  string
	attrs map[string]string
}

// recorder is a send func that records what it sends and fails when fail
// says so for the body and the number of the call (from 1).
type recorder struct {
	got   []sent
	calls int
	fail  func(body string, call int) bool
}

func (r *recorder) send(_ context.Context, body []byte, attrs map[string]string) (string, error) {
	r.calls++
	if r.fail != nil && r.fail(string(body), r.calls) {
		return "", errors.New("queue unavailable")
	}
	r.got = append(r.got, sent{string(body), attrs})
	return "msg-" + strconv.Itoa(r.calls), nil
}

func attrs(delivery string) map[string]string {
	return map[string]string{"delivery_id": delivery, "event": "message_created", "chatwoot_signature": "sha256=ab"}
}

func TestPutLayout(t *testing.T) {
	each(t, func(t *testing.T, s *Spool, b blob.Bucket, _ *time.Time) {
		body := `{"content":"<b>héllo</b> 👋 \u003c"}`
		id, err := s.Put(t.Context(), []byte(body), attrs("d1"))
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(id, "20261128T225959.000000000Z-"), id)
		keys, err := b.List(t.Context(), "", 0)
		require.NoError(t, err)
		require.Equal(t, []string{"spool/2026-11-28/" + id + ".json"}, keys, "one object per event, under its UTC day")

		data, err := b.Get(t.Context(), keys[0])
		require.NoError(t, err)
		assert.Contains(t, string(data), `"body":"{\"content\":\"<b>héllo</b> 👋 \\u003c\"}"`, "the body is a JSON string")
		var r map[string]any
		require.NoError(t, json.Unmarshal(data, &r))
		assert.Equal(t, body, r["body"])
		assert.Equal(t, id, r["id"])
		assert.Equal(t, "2026-11-28T22:59:59Z", r["spooled_at"])
		assert.Equal(t, map[string]any{"delivery_id": "d1", "event": "message_created", "chatwoot_signature": "sha256=ab"}, r["attributes"])
	})
}

func TestPutRejectsInvalidUTF8(t *testing.T) {
	each(t, func(t *testing.T, s *Spool, b blob.Bucket, _ *time.Time) {
		_, err := s.Put(t.Context(), []byte{'{', 0xff, '}'}, nil)
		assert.ErrorContains(t, err, "not valid UTF-8")
		keys, err := b.List(t.Context(), "", 0)
		require.NoError(t, err)
		assert.Empty(t, keys)
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
		wantSent  []int // indexes into bodies
		wantCalls int
		wantErr   string
	}{
		{"all", 0, nil, []int{0, 1, 2, 3}, 4, ""},
		{"max", 2, nil, []int{0, 1}, 2, ""},
		{"max beyond", 10, nil, []int{0, 1, 2, 3}, 4, ""},
		{"queue down: stops after three failures", 0, from(1), nil, 3, "queue unavailable"},
		{"queue goes down", 0, from(3), []int{0, 1}, 4, "queue unavailable"},
		{"one refused event does not block the rest", 0,
			func(body string, _ int) bool { return body == bodies[1] }, []int{0, 2, 3}, 4, "queue unavailable"},
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
				r := &recorder{fail: tc.fail}
				n, err := s.Drain(t.Context(), r.send, tc.max)
				if tc.wantErr != "" {
					assert.ErrorContains(t, err, tc.wantErr)
				} else {
					assert.NoError(t, err)
				}
				assert.Equal(t, len(tc.wantSent), n)
				assert.Equal(t, tc.wantCalls, r.calls)
				require.Len(t, r.got, len(tc.wantSent))
				left := map[int]bool{0: true, 1: true, 2: true, 3: true}
				for i, g := range r.got {
					assert.Equal(t, bodies[tc.wantSent[i]], g.body, "oldest first, byte for byte")
					assert.Equal(t, attrs("d"+strconv.Itoa(tc.wantSent[i])), g.attrs)
					delete(left, tc.wantSent[i])
				}

				// What was not sent is still there, and a later drain sends it.
				r = &recorder{}
				n, err = s.Drain(t.Context(), r.send, 0)
				require.NoError(t, err)
				assert.Equal(t, len(left), n)
				for _, g := range r.got {
					i := slices.Index(bodies, g.body)
					assert.True(t, left[i], "only what was left is sent again")
					delete(left, i)
				}
				keys, err := b.List(t.Context(), "", 0)
				require.NoError(t, err)
				assert.Empty(t, keys, "drained spool is empty")
			})
		})
	}
}

func TestDrainSkipsForeignObjects(t *testing.T) {
	each(t, func(t *testing.T, s *Spool, b blob.Bucket, _ *time.Time) {
		require.NoError(t, b.Put(t.Context(), "spool/2026-11-27/broken.json", []byte("{not json"), ""))
		require.NoError(t, b.Put(t.Context(), "other/x.json", []byte("{}"), ""))
		_, err := s.Put(t.Context(), []byte(`{"ok":true}`), nil)
		require.NoError(t, err)
		r := &recorder{}
		n, err := s.Drain(t.Context(), r.send, 1)
		assert.ErrorContains(t, err, "spool/2026-11-27/broken.json is not a spool record")
		assert.Equal(t, 1, n, "a foreign object does not count against max")
		require.Len(t, r.got, 1)
		assert.Equal(t, `{"ok":true}`, r.got[0].body)
		keys, err := b.List(t.Context(), "", 0)
		require.NoError(t, err)
		assert.Equal(t, []string{"other/x.json", "spool/2026-11-27/broken.json"}, keys, "left in place")
	})
}
