package local_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/chatwoottest"
	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/api"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/blob"
	"supportpipe/internal/ports/queue"
	"supportpipe/internal/runtime/local"
	"supportpipe/internal/support/conversation"
)

// corpusAccountSecret is the account webhook's secret. The API inbox signs
// with its channel's own secret, which loadCorpus takes from the corpus's
// inbox_updated body: Chatwoot sends the channel row, secret included.
const corpusAccountSecret = "corpus-account-webhook-secret"

type corpus struct {
	bodies      []chatwoottest.Body
	inboxSecret string
}

func loadCorpus(t *testing.T) corpus {
	t.Helper()
	bodies, err := chatwoottest.Load(chatwoottest.Dir())
	require.NoError(t, err)
	require.Len(t, bodies, 34)
	c := corpus{bodies: bodies}
	for _, b := range bodies {
		if b.Event != "inbox_updated" {
			continue
		}
		var inbox struct{ Channel struct{ Secret string } }
		require.NoError(t, json.Unmarshal(b.Raw, &inbox))
		c.inboxSecret = inbox.Channel.Secret
	}
	require.NotEmpty(t, c.inboxSecret, "the corpus names the API inbox's secret")
	return c
}

func (c corpus) body(t *testing.T, file string) chatwoottest.Body {
	t.Helper()
	i := slices.IndexFunc(c.bodies, func(b chatwoottest.Body) bool { return b.File == file })
	require.GreaterOrEqual(t, i, 0, "%s not in the corpus", file)
	return c.bodies[i]
}

// secretOf is the secret Chatwoot signs a body with: its webhook's.
func (c corpus) secretOf(b chatwoottest.Body) string {
	if b.Webhook == chatwoottest.APIInboxWebhook {
		return c.inboxSecret
	}
	return corpusAccountSecret
}

// withSecrets gives the server both secrets, as CHATWOOT_WEBHOOK_SECRET
// lists them.
func (c corpus) withSecrets(t *testing.T) func(*local.Server) {
	secrets, err := chatwoot.ParseSecrets(corpusAccountSecret + ", " + c.inboxSecret)
	require.NoError(t, err)
	return func(s *local.Server) { s.Ingest.Verifier = chatwoot.NewVerifier(secrets, chatwoot.DefaultTolerance) }
}

type corpusReply struct {
	Status         string `json:"status"`
	ID             string `json:"id"`
	Ignored        bool   `json:"ignored"`
	Spooled        bool   `json:"spooled"`
	InvalidPayload bool   `json:"invalid_payload"`
}

// deliver posts b to path as Chatwoot does: signed with its webhook's
// secret, under a fresh delivery id.
func (c corpus) deliver(t *testing.T, s *server, path string, b chatwoottest.Body) (int, corpusReply) {
	t.Helper()
	ts := strconv.FormatInt(s.s.Now().Unix(), 10)
	req, err := http.NewRequest(http.MethodPost, s.url+path, bytes.NewReader(b.Raw))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(chatwoot.HeaderDelivery, uuid.NewString())
	req.Header.Set(chatwoot.HeaderTimestamp, ts)
	req.Header.Set(chatwoot.HeaderSignature, chatwoot.Sign([]byte(c.secretOf(b)), ts, b.Raw))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var r corpusReply
	require.NoError(t, jsonDecode(resp, &r), b.File)
	return resp.StatusCode, r
}

// byClaimCheck reports whether b is too large for a queue message, so that it
// travels by claim check.
func byClaimCheck(b chatwoottest.Body) bool { return b.Bytes > queue.MaxMessageSize }

func (s *server) corpusView(t *testing.T, k conversation.Key) api.ConversationView {
	t.Helper()
	var v api.ConversationView
	require.Equal(t, http.StatusOK, s.get(t, fmt.Sprintf("/support/conversations/%d/%d", k.AccountID, k.ConversationID), s.token, &v))
	return v
}

// claimLog records what the claim check stores and releases.
type claimLog struct {
	blob.Bucket
	mu            sync.Mutex
	put, released []string
}

func (l *claimLog) Put(ctx context.Context, key string, data []byte, contentType string) error {
	err := l.Bucket.Put(ctx, key, data, contentType)
	if err == nil {
		l.mu.Lock()
		l.put = append(l.put, key)
		l.mu.Unlock()
	}
	return err
}

func (l *claimLog) Delete(ctx context.Context, key string) error {
	err := l.Bucket.Delete(ctx, key)
	if err == nil {
		l.mu.Lock()
		l.released = append(l.released, key)
		l.mu.Unlock()
	}
	return err
}

func (l *claimLog) keys() (put, released []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.put), slices.Clone(l.released)
}

// corpusSettled waits until the events queue holds nothing (visible, in
// flight or delayed for a retry) and the day's stats satisfy done: the
// edge flushes its own counts to the store in batches. The bound only
// keeps a broken pipeline from hanging the run.
func (s *server) corpusSettled(t *testing.T, done func(stats.Daily) bool) stats.Daily {
	t.Helper()
	var st stats.Daily
	waitfor.Until(t, func() bool {
		drained, err := s.s.Drained(context.Background())
		if err != nil || !drained {
			return false
		}
		st = stats.Daily{}
		return s.get(t, "/support/stats", s.token, &st) == http.StatusOK && done(st)
	}, "the corpus processed; stats: %s", func() string { return fmt.Sprintf("%+v", st) })
	return st
}

// TestCorpusEndToEnd delivers every body of the Chatwoot corpus to the
// local server as Chatwoot would (each signed by its own webhook's secret,
// to the URL with the account) and follows it to the end: every answer is
// a 2xx Chatwoot takes as delivered, every known event is processed once,
// nothing dead-letters, the bodies over 1 MiB go by claim check and are
// released, and no payload content reaches the logs.
func TestCorpusEndToEnd(t *testing.T) {
	c := loadCorpus(t)
	claims := &claimLog{}
	s := start(t, c.withSecrets(t), func(s *local.Server) {
		claims.Bucket = s.Claims.Bucket
		s.Claims.Bucket = claims
	})

	var known, unknown, large int
	for _, b := range c.bodies {
		code, r := c.deliver(t, s, "/webhooks/chatwoot/"+strconv.FormatInt(b.AccountID, 10), b)
		require.Equal(t, http.StatusAccepted, code, b.File)
		assert.Equal(t, "accepted", r.Status, b.File)
		assert.NotEmpty(t, r.ID, b.File)
		assert.False(t, r.InvalidPayload, "%s: the decoder must take every body Chatwoot sends", b.File)
		assert.False(t, r.Spooled, "%s: the queue took it", b.File)
		isKnown := chatwoot.KindOf(b.Event) != chatwoot.KindUnknown
		assert.Equal(t, !isKnown, r.Ignored, "%s: only events of no use are ignored", b.File)
		switch {
		case !isKnown:
			unknown++
		case byClaimCheck(b):
			large++
			known++
		default:
			known++
		}
	}
	require.Equal(t, 6, unknown, "typing, webwidget and inbox events")
	require.Equal(t, 3, large, "the three emails over 1 MiB")

	st := s.corpusSettled(t, func(st stats.Daily) bool {
		return st.Processed+st.Duplicates == int64(known) && st.Ignored == int64(unknown)
	})
	assert.Equal(t, int64(len(c.bodies)), st.Received)
	assert.Equal(t, int64(known), st.Accepted)
	assert.Zero(t, st.Duplicates, "every body is a distinct event")
	assert.Zero(t, st.Rejected, "%v", st.RejectedBy)
	assert.Zero(t, st.InvalidPayload, "%v", st.InvalidBy)
	assert.Zero(t, st.Refused, "%v", st.RefusedBy)
	assert.Zero(t, st.Spooled)
	assert.Zero(t, st.Failed)
	assert.Zero(t, st.DeadLettered)
	counters, err := s.s.Store.Counters(context.Background(), st.Date)
	require.NoError(t, err)
	assert.Zero(t, counters[stats.AccountMismatch], "every path names the payload's account")
	dlq, err := s.s.Queue.DLQDepth(context.Background())
	require.NoError(t, err)
	assert.Zero(t, dlq.Visible+dlq.InFlight+dlq.Delayed, "DLQ empty")

	for _, b := range c.bodies {
		if !byClaimCheck(b) {
			continue
		}
		p, err := chatwoot.Decode(b.Raw)
		require.NoError(t, err, b.File)
		var ids []int64
		if p.Message != nil {
			ids = append(ids, p.Message.ID)
		} else {
			for _, m := range p.Conversation.Messages {
				ids = append(ids, m.ID)
			}
		}
		require.NotEmpty(t, ids, "%s carries a message", b.File)
		k := conversation.Key{AccountID: b.AccountID, ConversationID: b.ConversationID}
		conv, found, err := s.s.Store.Conversation(context.Background(), k)
		require.NoError(t, err)
		require.True(t, found, "%s: conversation %v stored", b.File, k)
		var merged []int64
		for _, m := range conv.Messages {
			merged = append(merged, m.MessageID)
		}
		assert.Subset(t, merged, ids, "%s: its message merged into %v", b.File, k)
		v := s.corpusView(t, k)
		if p.Message != nil {
			require.NotNil(t, v.FirstCustomerMessageAt, "%s: the email is the customer's first message", b.File)
			assert.Equal(t, p.Message.ID, conv.FirstCustomerMessageID, b.File)
		} else {
			assert.Equal(t, p.Conversation.Status, v.Status, b.File)
		}
	}

	put, released := claims.keys()
	assert.Len(t, put, large, "each body over 1 MiB stored once by claim check")
	assert.ElementsMatch(t, put, released, "each released once its event completed")
	var left []string
	require.NoError(t, filepath.WalkDir(filepath.Join(s.s.Env.DataDir, "claims"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			left = append(left, path)
		}
		return err
	}))
	assert.Empty(t, left, "no claim-check object left")

	// Content, addresses, tokens and secrets of the bodies: none may be logged.
	leaks := map[string]string{
		"15_account_message_created_email_1_3mb.json.gz":             "RR-2026-11-1184",
		"16_account_message_created_email_4mb.json.gz":               "atlas-outfitters.example",
		"26_api_inbox_message_created_incoming_api.json":             "warped bases",
		"04_account_conversation_created.json":                       "Xq7mR2vT9kLp4sWz8bNc3dHf",
		"24_account_inbox_updated.json":                              "corpusHmacTokenNotReal02",
		"17_account_conversation_status_changed_after_email.json.gz": "Delivery receipts for November",
	}
	out := logs.String()
	for file, leak := range leaks {
		require.Contains(t, string(c.body(t, file).Raw), leak, "the check looks for what %s holds", file)
		assert.NotContains(t, out, leak, "logs carry ids, never content")
	}
	assert.NotContains(t, out, c.inboxSecret)
	assert.NotContains(t, out, corpusAccountSecret)
}

// TestCorpusConversationCreatedWithoutPathAccount: a webhook URL without the
// account (and no CHATWOOT_ACCOUNT_ID) still files a conversation_created
// that names its account (Chatwoot ≥ 4.14.2) under that account, so the
// messages that follow, posted to the URL with the account, merge into the
// same conversation instead of a second one.
func TestCorpusConversationCreatedWithoutPathAccount(t *testing.T) {
	c := loadCorpus(t)
	t.Setenv("CHATWOOT_ACCOUNT_ID", "")
	s := start(t, c.withSecrets(t))
	ctx := context.Background()
	pairs := [][2]string{
		{"04_account_conversation_created.json", "05_account_message_created_incoming_widget.json"},
		{"25_api_inbox_conversation_created.json", "26_api_inbox_message_created_incoming_api.json"},
	}

	for _, pair := range pairs {
		created := c.body(t, pair[0])
		var named struct{ Account struct{ ID int64 } }
		require.NoError(t, json.Unmarshal(created.Raw, &named))
		require.Equal(t, created.AccountID, named.Account.ID, "%s names its account", created.File)
		code, r := c.deliver(t, s, "/webhooks/chatwoot", created)
		require.Equal(t, http.StatusAccepted, code, created.File)
		require.False(t, r.Ignored || r.InvalidPayload, created.File)
	}
	s.corpusSettled(t, func(st stats.Daily) bool { return st.Processed == int64(len(pairs)) })
	for _, pair := range pairs {
		created := c.body(t, pair[0])
		_, found, err := s.s.Store.Conversation(ctx, conversation.Key{AccountID: created.AccountID, ConversationID: created.ConversationID})
		require.NoError(t, err)
		assert.True(t, found, "%s filed under the payload's account", created.File)
	}

	for _, pair := range pairs {
		msg := c.body(t, pair[1])
		code, _ := c.deliver(t, s, "/webhooks/chatwoot/"+strconv.FormatInt(msg.AccountID, 10), msg)
		require.Equal(t, http.StatusAccepted, code, msg.File)
	}
	st := s.corpusSettled(t, func(st stats.Daily) bool { return st.Processed == int64(2*len(pairs)) })
	assert.Zero(t, st.DeadLettered)
	counters, err := s.s.Store.Counters(ctx, st.Date)
	require.NoError(t, err)
	assert.Zero(t, counters[stats.AccountMismatch], "no path is no disagreement")

	for _, pair := range pairs {
		created, msg := c.body(t, pair[0]), c.body(t, pair[1])
		require.Equal(t, created.ConversationID, msg.ConversationID)
		p, err := chatwoot.Decode(msg.Raw)
		require.NoError(t, err)
		conv, found, err := s.s.Store.Conversation(ctx, conversation.Key{AccountID: created.AccountID, ConversationID: created.ConversationID})
		require.NoError(t, err)
		require.True(t, found)
		assert.Equal(t, p.Message.ID, conv.FirstCustomerMessageID, "%s merged into the conversation %s opened", msg.File, created.File)
		_, split, err := s.s.Store.Conversation(ctx, conversation.Key{ConversationID: created.ConversationID})
		require.NoError(t, err)
		assert.False(t, split, "no conversation %d without an account", created.ConversationID)
	}
}
