package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/apigw"
	"supportpipe/internal/ops/api"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/ports/store/sqlitestore"
)

// eventsLog is a delivery's story and a few others: d1 failed twice, was
// dead-lettered, then redriven and processed; d2 was ignored; d3, of
// another conversation, processed.
func eventsLog(now time.Time) []store.Delivery {
	at := now.Add(-time.Hour).UTC().Truncate(time.Millisecond)
	d1 := func(o string, attempt int, after time.Duration) store.Delivery {
		return store.Delivery{ID: "d1", MessageID: "m1", Event: "message_created", AccountID: 7, ConversationID: 1423,
			ReceivedAt: at, At: at.Add(after), Outcome: o, Attempt: attempt, Processing: 12 * time.Millisecond}
	}
	failed1, failed2, dead := d1(store.DeliveryFailed, 1, time.Second), d1(store.DeliveryFailed, 2, 3*time.Second), d1(store.DeliveryDeadLettered, 3, 7*time.Second)
	failed1.Reason, failed2.Reason, dead.Reason = "stage support: chatwoot api: 503", "stage support: chatwoot api: 503", "stage support: chatwoot api: 502"
	redriven := d1(store.DeliveryProcessed, 0, time.Minute)
	redriven.Redriven = true
	return []store.Delivery{failed1, failed2, dead,
		{ID: "d2", Event: "conversation_typing_on", AccountID: 7, ReceivedAt: at.Add(2 * time.Minute), At: at.Add(2 * time.Minute), Outcome: store.DeliveryIgnored},
		redriven,
		{ID: "d3", MessageID: "m3", Event: "message_created", AccountID: 7, ConversationID: 99, ReceivedAt: at.Add(3 * time.Minute),
			At: at.Add(3 * time.Minute), Outcome: store.DeliveryProcessed, Processing: 8 * time.Millisecond},
	}
}

func rejections(t *testing.T, st store.Store, now time.Time) {
	t.Helper()
	require.NoError(t, st.AddCounters(context.Background(), stats.Day(now),
		map[string]int64{stats.Rejected: 2, stats.RejectedPrefix + "bad_signature": 1, stats.RejectedPrefix + "replay": 1}))
}

// TestEvents: the delivery log from the local data dir, by each filter.
func TestEvents(t *testing.T) {
	dir := cliEnv(t)
	t.Setenv("CHATWOOT_ACCOUNT_ID", "7")
	now := time.Now()
	st, err := sqlitestore.Open(t.Context(), filepath.Join(dir, "store.db"))
	require.NoError(t, err)
	require.NoError(t, st.LogDeliveries(t.Context(), eventsLog(now)...))
	rejections(t, st, now)
	require.NoError(t, st.Close())

	code, out, errOut := invoke(t, "", "events")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 1+6+2, out)
	assert.Regexp(t, `^AT\s+RECEIVED\s+OUTCOME\s+EVENT\s+DELIVERY\s+CONVERSATION\s+MS\s+REASON`, lines[0])
	assert.Regexp(t, `processed\s+message_created\s+d3\s+7/99\s+8\.0 ms`, lines[1], "newest first")
	assert.Regexp(t, `ignored\s+conversation_typing_on\s+d2\s+-`, lines[2])
	assert.Regexp(t, `processed, redriven\s+message_created\s+d1\s+7/1423`, lines[3])
	assert.Regexp(t, `failed \(attempt 1\).*stage support: chatwoot api: 503$`, lines[6])
	assert.Regexp(t, `^rejected .* from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d: 2, bad_signature 1, replay 1$`, lines[7],
		"the counts of the days kept follow the table")
	assert.Regexp(t, `^refused .*: 0$`, lines[8])

	tests := []struct {
		args []string
		want []string // the DELIVERY/OUTCOME column pairs, newest first
	}{
		{[]string{"--outcome", "dead_lettered"}, []string{"d1 dead_lettered"}},
		{[]string{"--outcome", "redriven"}, []string{"d1 processed"}},
		{[]string{"--conversation", "1423"}, []string{"d1 processed", "d1 dead_lettered", "d1 failed", "d1 failed"}},
		{[]string{"--conversation", "1423", "--account", "8"}, nil},
		{[]string{"--since", "59m30s"}, []string{"d3 processed", "d2 ignored", "d1 processed"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, out, errOut := invoke(t, "", append([]string{"events", "--json"}, tc.args...)...)
			require.Equal(t, exitOK, code, errOut)
			var v api.DeliveriesView
			require.NoError(t, json.Unmarshal([]byte(out), &v))
			var got []string
			for _, d := range v.Deliveries {
				got = append(got, d.DeliveryID+" "+d.Outcome)
			}
			assert.Equal(t, tc.want, got)
		})
	}

	code, out, _ = invoke(t, "", "events", "--limit", "2")
	require.Equal(t, exitOK, code)
	m := regexp.MustCompile(`more: add --cursor (\S+)`).FindStringSubmatch(out)
	require.Len(t, m, 2, out)
	code, out, _ = invoke(t, "", "events", "--limit", "2", "--cursor", m[1], "--json")
	require.Equal(t, exitOK, code)
	var next api.DeliveriesView
	require.NoError(t, json.Unmarshal([]byte(out), &next))
	require.Len(t, next.Deliveries, 2)
	assert.Equal(t, "d1", next.Deliveries[1].DeliveryID, "the page after")
	assert.Nil(t, next.Rejected, "counts come with the first page")

	code, out, errOut = invoke(t, "", "events", "--outcome", "rejected")
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, out, "AT")
	assert.Contains(t, out, ": 2, bad_signature 1, replay 1")
}

// TestEventsShow: one delivery's story, oldest first, each failure with
// its reason.
func TestEventsShow(t *testing.T) {
	dir := cliEnv(t)
	now := time.Now()
	st, err := sqlitestore.Open(t.Context(), filepath.Join(dir, "store.db"))
	require.NoError(t, err)
	require.NoError(t, st.LogDeliveries(t.Context(), eventsLog(now)...))
	require.NoError(t, st.Close())

	code, out, errOut := invoke(t, "", "events", "show", "d1")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 2+4, out)
	assert.Equal(t, "delivery d1: message_created, account 7, conversation 7/1423", lines[0])
	assert.True(t, strings.HasPrefix(lines[1], "received "))
	assert.Regexp(t, `failed \(attempt 1\)\s+12\.0 ms\s+message m1\s+stage support: chatwoot api: 503$`, lines[2])
	assert.Regexp(t, `failed \(attempt 2\).*503$`, lines[3])
	assert.Regexp(t, `dead_lettered \(attempt 3\).*502$`, lines[4])
	assert.Regexp(t, `processed, redriven\s+12\.0 ms\s+message m1\s*$`, lines[5])

	code, _, errOut = invoke(t, "", "events", "show", "nope")
	assert.Equal(t, exitFail, code)
	assertOneLine(t, errOut, "supportctl events show:", `no entry for delivery "nope"`, "rejected")
}

// TestEventsThroughTheAPI: --url reads GET /support/deliveries, as on AWS.
func TestEventsThroughTheAPI(t *testing.T) {
	cliEnv(t)
	now := time.Now()
	st := memstore.New()
	require.NoError(t, st.LogDeliveries(t.Context(), eventsLog(now)...))
	rejections(t, st, now)
	h := &api.Handler{Store: st, Token: "remote-token", Log: slog.New(slog.DiscardHandler), Now: time.Now, Account: 7}
	srv := httptest.NewServer(apigw.HTTP(h.Handle, 0, nil))
	t.Cleanup(srv.Close)

	code, out, errOut := invoke(t, "", "events", "--url", srv.URL, "--token", "remote-token", "--conversation", "1423", "--outcome", "failed")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, 2, strings.Count(out, "failed (attempt"), out)
	code, out, errOut = invoke(t, "", "events", "show", "d1", "--url", srv.URL+"/support/", "--token", "remote-token", "--conversation", "1423")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, "dead_lettered (attempt 3)")
	code, _, errOut = invoke(t, "", "events", "--url", srv.URL, "--token", "wrong")
	assert.Equal(t, exitFail, code)
	assertOneLine(t, errOut, "supportctl events:", "token was refused")
}

func TestEventsWrongFlags(t *testing.T) {
	cliEnv(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"events", "--outcome", "lost"}, []string{"supportctl events:", "--outcome must be one of"}},
		{[]string{"events", "--since", "yesterday"}, []string{"supportctl events:", "--since must be"}},
		{[]string{"events", "--conversation", "x"}, []string{"--conversation must be a positive integer"}},
		{[]string{"events", "--account", "7"}, []string{"--account is only read with a conversation"}},
		{[]string{"events", "--limit", "0"}, []string{"--limit 0 is not between 1 and 500"}},
		{[]string{"events", "--cursor", "nope"}, []string{`--cursor "nope"`}},
		{[]string{"events", "sho"}, []string{`unknown command "sho"`, `did you mean "show"`}},
		{[]string{"events", "show"}, []string{"supportctl events show:", "missing DELIVERY"}},
		{[]string{"events", "show", "a", "b"}, []string{`unexpected argument "b"`}},
		{[]string{"events", "show", "d1", "--outcome", "failed"}, []string{"unknown flag: --outcome"}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			code, _, errOut := invoke(t, "", tc.args...)
			assert.Equal(t, exitUsage, code, errOut)
			assertOneLine(t, errOut, tc.want...)
		})
	}
}
