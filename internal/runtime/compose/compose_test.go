package compose

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/runtime/config"
)

// TestCheckTeam: the processor and the sweeper refuse to start, live, with
// an escalation.team_id the account lacks; not live there is no Chatwoot to
// ask, and the recorder assigns any team.
func TestCheckTeam(t *testing.T) {
	var requests atomic.Int32
	chatwoot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		if r.URL.Path != "/api/v1/accounts/7/teams" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `[{"id":1,"name":"Billing","description":"","allow_auto_assign":true,"account_id":7,"is_member":false}]`)
	}))
	t.Cleanup(chatwoot.Close)
	// One attempt, given as long as this machine needs to answer it.
	live, err := rest.NewHTTPClient(chatwoot.URL, "tok-lambda", rest.Options{MaxAttempts: 1, RatePerMinute: -1, Timeout: waitfor.Hang})
	require.NoError(t, err)
	file, err := config.Parse([]byte("escalation:\n  team_id: 3\n"))
	require.NoError(t, err)
	settings := config.Settings{File: file, Account: 7}
	log := slog.New(slog.DiscardHandler)

	rec := rest.NewOffline(nil)
	require.NoError(t, New(settings, Adapters{Chatwoot: rec, Log: log}).CheckTeam(t.Context()))
	assert.Empty(t, rec.Calls())

	settings.Live = true
	require.EqualError(t, New(settings, Adapters{Chatwoot: live, Log: log}).CheckTeam(t.Context()),
		"escalation.team_id: Chatwoot account 7 has no team 3 (it has teams 1)")
	assert.Equal(t, int32(1), requests.Load())

	file.Escalation.TeamID = 1
	assert.NoError(t, New(settings, Adapters{Chatwoot: live, Log: log}).CheckTeam(t.Context()))
}
