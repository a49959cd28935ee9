package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/devtools/tiletest"
	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ops/api"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/runtime/local"
	"supportpipe/internal/support/sla"
)

// demoConfig is the README's business hours (New York, weekdays, a lunch
// break on Wednesdays, Christmas) with VIPs by contact attribute.
const demoConfig = `business_hours:
  default:
    timezone: America/New_York
    weekly: { mon: ["09:00-17:00"], tue: ["09:00-17:00"], wed: ["09:00-12:00", "13:00-17:00"],
              thu: ["09:00-17:00"], fri: ["09:00-17:00"], sat: [], sun: [] }
    holidays: ["2026-12-25"]
sla: { first_response: 15m, at_risk_fraction: 0.2 }
escalation:
  vip: { custom_attribute: vip, labels: [], emails: [], domains: [] }
`

// TestLatestBreached: whatever the day and hour, the back-dated message's
// target ran out in business time a margin before now, and it is the
// latest such time to the second; a calendar closed for the whole search
// refuses.
func TestLatestBreached(t *testing.T) {
	cfg, err := config.Parse([]byte(demoConfig))
	require.NoError(t, err)
	cal := cfg.Calendar(demoInbox)
	ny, err := time.LoadLocation("America/New_York")
	require.NoError(t, err)
	for _, now := range []time.Time{
		time.Date(2026, 12, 7, 8, 0, 0, 0, ny),   // Monday before opening
		time.Date(2026, 12, 7, 9, 5, 0, 0, ny),   // Monday, 5 minutes open
		time.Date(2026, 12, 6, 18, 0, 0, 0, ny),  // Sunday evening
		time.Date(2026, 12, 9, 12, 30, 0, 0, ny), // Wednesday's lunch break
		time.Date(2026, 12, 8, 15, 0, 0, 0, ny),  // Tuesday afternoon
		time.Date(2026, 12, 28, 9, 1, 0, 0, ny),  // the Monday after Christmas
	} {
		t.Run(now.Format("Mon 2006-01-02 15:04"), func(t *testing.T) {
			at, ok := latestBreached(cal, cfg.SLA.FirstResponse, now)
			require.True(t, ok)
			due, err := sla.DueAt(cal, at, cfg.SLA.FirstResponse)
			require.NoError(t, err)
			assert.False(t, due.After(now.Add(-breachMargin)), "due %v", due)
			later, err := sla.DueAt(cal, at.Add(2*time.Second), cfg.SLA.FirstResponse)
			require.NoError(t, err)
			assert.True(t, later.After(now.Add(-breachMargin)), "a later message would not have breached")
			assert.Equal(t, sla.Breached, sla.Evaluate(cfg.SLA.FirstResponse, cfg.SLA.AtRiskFraction, cal, at, time.Time{}, now).State)
		})
	}
	// Open on Mondays only, and each Monday of the last 30 days a holiday.
	closed, err := config.Parse([]byte(`business_hours:
  default:
    timezone: UTC
    weekly: {mon: ["09:00-17:00"]}
    holidays: ["2026-11-09", "2026-11-16", "2026-11-23", "2026-11-30", "2026-12-07"]
`))
	require.NoError(t, err)
	_, ok := latestBreached(closed.Calendar(demoInbox), time.Hour, time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC))
	assert.False(t, ok)
}

// TestDemoPlan: every body is one Chatwoot accepts, of its scene's
// conversation, its customer time where the scene wants it and within the
// plausible window; the VIP carries the configured attribute; the
// duplicate is the billing message's bytes under a new delivery id.
func TestDemoPlan(t *testing.T) {
	cfg, err := config.Parse([]byte(demoConfig))
	require.NoError(t, err)
	tpl, err := demoTemplates(filepath.Join("..", "..", "testdata", "chatwoot", "corpus"))
	require.NoError(t, err)
	now := time.Date(2026, 12, 7, 13, 30, 0, 0, time.UTC) // Monday 08:30 in New York
	plan, notes, err := demoPlan(tpl, cfg, 5000, now)
	require.NoError(t, err)
	assert.Empty(t, notes)
	require.Len(t, plan, 5)
	deliveries := map[string]bool{}
	for i, s := range plan {
		assert.Equal(t, int64(5000+i), s.conv)
		for _, snd := range s.sends {
			assert.False(t, deliveries[snd.delivery], "delivery ids differ")
			deliveries[snd.delivery] = true
			h, err := chatwoot.Check(snd.body)
			require.NoError(t, err, s.name)
			assert.Equal(t, s.conv, h.ConversationID)
			assert.Equal(t, int64(demoAccount), h.AccountID)
			assert.NotContains(t, string(snd.body), "2201", "no corpus conversation id left")
			p, err := chatwoot.Decode(snd.body)
			require.NoError(t, err)
			if m := p.Message; m != nil {
				at := m.CreatedAt.Time
				assert.True(t, !at.After(now) && at.After(now.Add(-4*24*time.Hour)), "%s: %v", s.name, at)
			}
		}
	}
	vip := plan[3]
	assert.Contains(t, string(vip.sends[1].body), `"custom_attributes":{"vip":true}`)
	billing := plan[4]
	require.Len(t, billing.sends, 3)
	assert.Equal(t, billing.sends[1].body, billing.sends[2].body)
	answered := plan[1]
	require.Len(t, answered.sends, 3)
	reply, err := chatwoot.Decode(answered.sends[2].body)
	require.NoError(t, err)
	asked, err := chatwoot.Decode(answered.sends[1].body)
	require.NoError(t, err)
	assert.Equal(t, 4*time.Minute, reply.Message.CreatedAt.Time.Sub(asked.Message.CreatedAt.Time).Round(time.Second))
	assert.Contains(t, plan[2].sends[1].note, "back-dated to Fri")

	_, notes, err = demoPlan(tpl, &config.Config{SLA: cfg.SLA, BusinessHours: cfg.BusinessHours}, 5000, now)
	require.NoError(t, err)
	assert.Contains(t, strings.Join(notes, "\n"), "no escalation.vip rule")
}

// TestDemoAgainstTheLocalServer runs the demo against the local server on
// its own data dir (the processor in this process), as a user would after
// make run: every scene handled, the breach breached, the VIP escalated
// for both reasons, the duplicate counted, the links printed, and the tile
// they lead to showing the demo's queue.
func TestDemoAgainstTheLocalServer(t *testing.T) {
	dir := cliEnv(t)
	confPath := filepath.Join(dir, "support.yaml")
	require.NoError(t, os.WriteFile(confPath, []byte(demoConfig), 0o600))
	t.Setenv("SUPPORT_CONFIG", confPath)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Setenv("SUPPORT_ADDR", ln.Addr().String())

	env, err := local.LoadConfig()
	require.NoError(t, err)
	cls, err := local.NewClassifiers(env.File)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	s, err := local.Open(ctx, env, cls, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	require.NoError(t, err)
	s.JobEvery = time.Hour
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		assert.NoError(t, <-done)
		assert.NoError(t, s.Close())
	})

	demoStart := time.Now()
	code, out, errOut := invoke(t, "", "demo", "--wait", waitfor.Hang.String())
	require.Equal(t, exitOK, code, "%s\n%s", out, errOut)
	assert.Empty(t, errOut)
	for _, want := range []string{"waiting ", "answered ", "met (answered in 4m", "breached (due", "angry_language,vip",
		"billing", "duplicates today: 1", "/support/tile#token=cli-token", "/support/queue", "/support/stats",
		"/support/health", "/support/conversations/27/"} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "note:")
	t.Run("Tile", func(t *testing.T) { demoTile(t, out, demoStart) })

	// Again: new conversations, nothing refused.
	code, out, errOut = invoke(t, "", "demo", "--wait", waitfor.Hang.String())
	require.Equal(t, exitOK, code, "%s\n%s", out, errOut)
	assert.Contains(t, out, "duplicates today: 2")
}

// demoTile opens the tile link the demo printed, as a user would after it,
// and checks that it shows the queue the demo made: customers waiting, the
// breached one among them, and today's compliance from the answered one.
// UPDATE_SCREENSHOTS=1 writes it to docs/img/tile-demo.png, the README's
// picture of the tile after the demo.
func demoTile(t *testing.T, demoOut string, demoStart time.Time) {
	m := regexp.MustCompile(`(?m)^\s*tile\s+(\S+)$`).FindStringSubmatch(demoOut)
	require.NotNil(t, m, "the demo prints the tile link:\n%s", demoOut)
	link, err := url.Parse(m[1])
	require.NoError(t, err)
	// The answered scene's wait began 10 minutes before the demo ran, and
	// compliance counts the waits that began today (UTC): in the first
	// minutes after midnight it began yesterday, and the tile rightly says
	// "no data yet" unless another wait of the demo counts.
	answeredToday := stats.Day(demoStart.Add(-10*time.Minute)) == stats.Day(time.Now())
	if answeredToday {
		// The demo waits for the conversations, which the processor stores
		// before its support stage files their SLA records: wait for the
		// answered scene's outcome, as a user opening the tile a moment
		// later would find it.
		frag, err := url.ParseQuery(link.Fragment)
		require.NoError(t, err)
		cl := &apiClient{base: link.Scheme + "://" + link.Host, token: frag.Get("token"), http: http.DefaultClient}
		waitfor.Until(t, func() bool {
			var q api.QueueView
			require.NoError(t, cl.get(t.Context(), "/support/queue", &q))
			return q.SLA.CompliancePct != nil
		}, "a compliance of today in /support/queue")
	}

	tab := tiletest.NewTab(t, tiletest.NewBrowser(t))
	tiletest.Navigate(t, tab, link.String())
	v := tiletest.WaitState(t, tab, "data")
	require.True(t, v.Numbers, "the numbers are shown")
	number := func(field string) float64 {
		t.Helper()
		n, err := strconv.ParseFloat(v.Fields[field].Value, 64)
		require.NoError(t, err, "%s: %+v", field, v.Fields[field])
		return n
	}
	assert.GreaterOrEqual(t, number("pending"), 1.0, "customers waiting")
	assert.Positive(t, number("oldest_wait_seconds"), "the longest wait")
	assert.NotEqual(t, "0s", v.Fields["oldest_wait_seconds"].Text)
	assert.GreaterOrEqual(t, number("breached"), 1.0, "the breached scene waits")
	// Checked again: midnight may have passed while the tile loaded.
	if answeredToday && stats.Day(demoStart.Add(-10*time.Minute)) == stats.Day(time.Now()) {
		assert.Positive(t, number("compliance_pct"), "compliance of today, from the answered scene")
		assert.Regexp(t, `^\d+\.\d%$`, v.Fields["compliance_pct"].Text)
	} else {
		assert.NotEmpty(t, v.Fields["compliance_pct"].Text, "compliance")
	}
	tiletest.Screenshot(t, tab, filepath.Join("..", "..", "docs", "img", "tile-demo.png"))
}
