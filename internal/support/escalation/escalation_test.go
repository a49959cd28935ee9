package escalation_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/memstore"
	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/escalation"
)

// fakeChatwoot answers the calls an escalation makes. Until teamExists,
// a team assignment gets what Chatwoot gives for a team the account lacks:
// 200 and null. teams is the body of GET …/teams; teamsStatus its status.
type fakeChatwoot struct {
	mu          sync.Mutex
	teamExists  bool
	teams       string
	teamsStatus int
	calls       []string
}

func (f *fakeChatwoot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, r.Method+" "+r.URL.Path)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	switch {
	case strings.HasSuffix(r.URL.Path, "/teams"):
		w.WriteHeader(f.teamsStatus)
		io.WriteString(w, f.teams)
	case strings.HasSuffix(r.URL.Path, "/labels"):
		io.WriteString(w, `{"payload":["escalated"]}`)
	case strings.HasSuffix(r.URL.Path, "/assignments"):
		if f.teamExists {
			io.WriteString(w, `{"id":3,"name":"Billing","description":"","allow_auto_assign":true,"account_id":7}`)
			return
		}
		io.WriteString(w, "null")
	case strings.HasSuffix(r.URL.Path, "/messages"):
		io.WriteString(w, `{"id":99100,"private":true}`)
	}
}

func (f *fakeChatwoot) count(call string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		if c == call {
			n++
		}
	}
	return n
}

func newClient(t *testing.T, f *fakeChatwoot) *rest.HTTPClient {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	// One attempt: no test waits on a back-off.
	c, err := rest.NewHTTPClient(srv.URL, "tok-escalation", rest.Options{MaxAttempts: 1, RatePerMinute: -1})
	require.NoError(t, err)
	return c
}

func actionStatus(acts []store.Action) map[string]string {
	out := map[string]string{}
	for _, a := range acts {
		out[a.ID] = a.Status
	}
	return out
}

// TestMissingTeamIsNotEscalated: Chatwoot's 200 null to a team assignment
// stops the escalation before its note and record, so it is retried and
// surfaces instead of passing for done.
func TestMissingTeamIsNotEscalated(t *testing.T) {
	ctx := t.Context()
	f := &fakeChatwoot{}
	st := memstore.New()
	e := &escalation.Escalator{Store: st, Chatwoot: newClient(t, f), Config: escalation.Config{AngerThreshold: 0.5, TeamID: 3},
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return time.Date(2026, 5, 12, 10, 30, 0, 0, time.UTC) }}
	k := conversation.Key{AccountID: 7, ConversationID: 1423}
	reasons := []string{escalation.ReasonSLABreach}

	err := e.Escalate(ctx, k, "sweeper", reasons, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "team 3")
	assert.Contains(t, err.Error(), "conversation 1423")
	acts, err := st.Actions(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, store.ActionFailed, actionStatus(acts)["team:3"])
	assert.Empty(t, escalation.Reasons(acts), "not escalated")
	assert.Zero(t, f.count("POST /api/v1/accounts/7/conversations/1423/messages"), "no note claims it was")

	f.mu.Lock()
	f.teamExists = true
	f.mu.Unlock()
	require.NoError(t, e.Escalate(ctx, k, "sweeper", reasons, nil), "the retry")
	acts, err = st.Actions(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, store.ActionDone, actionStatus(acts)["team:3"])
	assert.Equal(t, reasons, escalation.Reasons(acts))
	assert.Equal(t, 1, f.count("POST /api/v1/accounts/7/conversations/1423/messages"))
}

func TestCheckTeam(t *testing.T) {
	const teams = `[{"id":1,"name":"Billing","description":"","allow_auto_assign":true,"account_id":7,"is_member":false},` +
		`{"id":5,"name":"Returns","description":null,"allow_auto_assign":false,"account_id":7,"is_member":true}]`
	tests := []struct {
		name        string
		team        int64
		account     int64
		teams       string
		teamsStatus int
		wantErr     string
		wantLog     string
		wantCalls   int
	}{
		{name: "no team configured", team: 0, account: 7},
		{name: "team exists", team: 5, account: 7, teams: teams, teamsStatus: 200, wantCalls: 1},
		{name: "team missing", team: 3, account: 7, teams: teams, teamsStatus: 200, wantCalls: 1,
			wantErr: "escalation.team_id: Chatwoot account 7 has no team 3 (it has teams 1, 5)"},
		{name: "account without teams", team: 3, account: 7, teams: `[]`, teamsStatus: 200, wantCalls: 1,
			wantErr: "escalation.team_id: Chatwoot account 7 has no team 3 (it has no teams)"},
		{name: "no account to ask", team: 3, account: 0, wantLog: "no Chatwoot account configured"},
		{name: "Chatwoot failing", team: 3, account: 7, teams: `{"error":"boom"}`, teamsStatus: 500, wantCalls: 1,
			wantLog: "escalation.team_id not checked"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeChatwoot{teams: tt.teams, teamsStatus: tt.teamsStatus}
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			err := escalation.Config{TeamID: tt.team}.CheckTeam(t.Context(), newClient(t, f), tt.account, log)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				assert.NotContains(t, err.Error(), "Billing", "team names are not repeated")
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.wantCalls, f.count("GET /api/v1/accounts/7/teams"))
			if tt.wantLog != "" {
				assert.Contains(t, logs.String(), tt.wantLog)
			} else {
				assert.Empty(t, logs.String())
			}
		})
	}
}

// TestNoteBeingPostedElsewhere: an escalation whose note another worker is
// posting leaves the escalation for that worker to record; if its post
// fails, the next escalation for those reasons posts the note.
func TestNoteBeingPostedElsewhere(t *testing.T) {
	ctx := t.Context()
	st := memstore.New()
	cw := rest.NewOffline(st)
	now := time.Date(2026, 5, 12, 10, 30, 0, 0, time.UTC)
	e := &escalation.Escalator{Store: st, Chatwoot: cw, Config: escalation.Config{AngerThreshold: 0.5},
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }}
	k := conversation.Key{AccountID: 7, ConversationID: 1423}
	reasons := []string{escalation.ReasonAngry}
	noteID := "note:escalation:" + escalation.ReasonAngry
	notes := func() int {
		n := 0
		for _, c := range cw.Calls() {
			if c.Op == rest.OpPrivateNote {
				n++
			}
		}
		return n
	}

	// m1 is posting the note right now.
	claimed, _, err := st.ClaimAction(ctx, store.Action{Key: k, ID: noteID, Kind: "note", Owner: "m1", At: now})
	require.NoError(t, err)
	require.True(t, claimed)
	require.NoError(t, e.Escalate(ctx, k, "m2", reasons, nil))
	acts, err := st.Actions(ctx, k)
	require.NoError(t, err)
	assert.Empty(t, escalation.Reasons(acts), "m1 records the escalation once its note is posted")
	assert.Zero(t, notes())

	// m1's post failed: the next escalation for the reason posts it.
	require.NoError(t, st.FinishAction(ctx, k, noteID, store.ActionFailed, "status 500"))
	require.NoError(t, e.Escalate(ctx, k, "m3", reasons, nil))
	acts, err = st.Actions(ctx, k)
	require.NoError(t, err)
	assert.Equal(t, reasons, escalation.Reasons(acts))
	assert.Equal(t, store.ActionDone, actionStatus(acts)[noteID])
	assert.Equal(t, 1, notes())
}
