package local_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/local"
	"supportpipe/internal/support/sla"
)

// echoBody is a reply typed in the WhatsApp Business app: Chatwoot sends it
// as an outgoing message with no sender and content_attributes.external_echo.
func echoBody(msgID, convID int64, created time.Time) []byte {
	return []byte(fmt.Sprintf(`{"event":"message_created","id":%d,"content":"Shipped this morning!","content_type":"text",`+
		`"content_attributes":{"external_echo":true},"additional_attributes":{},"message_type":"outgoing","private":false,`+
		`"source_id":"wamid.HBgLMTQxNTU1NTAxMjM","created_at":%q,"sender":null,`+
		`"account":{"id":7,"name":"Northwind"},"inbox":{"id":4,"name":"WhatsApp"},`+
		`"conversation":{"id":%d,"inbox_id":4,"status":"open","labels":[],"updated_at":%d.5,"created_at":%d,"messages":[],"meta":{}}}`,
		msgID, created.UTC().Format(time.RFC3339Nano), convID, created.Unix(), created.Unix()))
}

// TestExternalEchoAnswers: an agent answered from the WhatsApp app. As in
// Chatwoot, that is the first response: its time is counted, the SLA is met,
// and the sweeper neither breaches nor escalates once the due time passes.
func TestExternalEchoAnswers(t *testing.T) {
	c := newClock(time.Date(2026, 11, 23, 15, 6, 0, 0, time.UTC)) // Monday 10:06 New York
	s := start(t, withClock(c))
	asked := time.Date(2026, 11, 23, 15, 0, 0, 0, time.UTC)
	require.Equal(t, 202, s.post(t, messageBody(801, 80, asked, "Where is my parcel?", "a@b.example", `{}`, `[]`), "d-801"))
	require.Equal(t, 202, s.post(t, echoBody(802, 80, asked.Add(5*time.Minute)), "d-802"))
	s.waitDrained(t)

	c.set(time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)) // 11:00, long past the 10:15 due time
	s.s.RunJobs(context.Background())
	v := s.view(t, 80)
	require.NotNil(t, v.FirstResponseSeconds)
	assert.Equal(t, 300.0, *v.FirstResponseSeconds)
	require.NotNil(t, v.SLA)
	assert.Equal(t, sla.Met, v.SLA.State)
	assert.False(t, v.Waiting)
	assert.Empty(t, v.EscalationReasons)
	for _, a := range v.Actions {
		assert.NotEqual(t, "sla_breach", a.Kind, "no breach filed")
	}
}

// TestStartRefusesUnknownTeam: live, a team id the account does not have
// stops start-up with one line naming the key and the account; one it has
// does not.
func TestStartRefusesUnknownTeam(t *testing.T) {
	chatwoot := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/api/v1/accounts/7/teams" || r.Header.Get("api_access_token") != "tok-teams" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		io.WriteString(w, `[{"id":1,"name":"Billing","description":"","allow_auto_assign":true,"account_id":7,"is_member":false}]`)
	}))
	t.Cleanup(chatwoot.Close)
	t.Setenv("SUPPORT_DATA_DIR", t.TempDir())
	t.Setenv("CHATWOOT_WEBHOOK_SECRET", secret)
	t.Setenv("SUPPORT_API_TOKEN", "api-token")
	t.Setenv("CHATWOOT_LIVE", "true")
	t.Setenv("CHATWOOT_BASE_URL", chatwoot.URL)
	t.Setenv("CHATWOOT_API_TOKEN", "tok-teams")
	t.Setenv("CHATWOOT_ACCOUNT_ID", "7")
	env, err := local.LoadConfig()
	require.NoError(t, err)
	log := slog.New(slog.DiscardHandler)

	conf, err := config.Parse([]byte("escalation:\n  team_id: 3\n"))
	require.NoError(t, err)
	_, err = local.Open(t.Context(), withFile(env, conf), local.Classifiers{}, log)
	require.EqualError(t, err, "escalation.team_id: Chatwoot account 7 has no team 3 (it has teams 1)")
	assert.NotContains(t, err.Error(), "\n")

	conf, err = config.Parse([]byte("escalation:\n  team_id: 1\n"))
	require.NoError(t, err)
	s, err := local.Open(t.Context(), withFile(env, conf), local.Classifiers{}, log)
	require.NoError(t, err)
	assert.NoError(t, s.Close())
}
