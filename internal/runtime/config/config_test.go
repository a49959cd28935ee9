package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/sla"
	"supportpipe/internal/support/tagging"
)

func ts(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	require.NoError(t, err)
	return v
}

func TestLoadDesignExample(t *testing.T) {
	c, err := Load("../../../testdata/config/design.yaml")
	require.NoError(t, err)

	assert.Equal(t, SLA{FirstResponse: 15 * time.Minute, AtRiskFraction: 0.2}, c.SLA)
	assert.Equal(t, Queue{AlertDepth: 50, EscalateDepth: 100}, c.Queue)
	assert.Equal(t, Health{CacheTTL: 5 * time.Minute, IngestQuietPeriod: time.Hour}, c.Health)

	def := c.Calendar(99)
	assert.Equal(t, "America/New_York", def.Location().String())
	for at, open := range map[string]bool{
		"2026-06-01T09:00:00-04:00": true,
		"2026-06-01T17:00:00-04:00": false,
		"2026-06-03T12:30:00-04:00": false, // Wednesday lunch
		"2026-06-03T13:00:00-04:00": true,
		"2026-06-06T12:00:00-04:00": false, // Saturday
		"2026-12-25T12:00:00-05:00": false, // holiday
	} {
		assert.Equal(t, open, def.Open(ts(t, at)), at)
	}
	due, err := sla.DueAt(def, ts(t, "2026-06-01T16:59:00-04:00"), c.SLA.FirstResponse)
	require.NoError(t, err)
	assert.Equal(t, "2026-06-02T13:14:00Z", due.UTC().Format(time.RFC3339))

	in12 := c.Calendar(12)
	assert.Equal(t, "Europe/Berlin", in12.Location().String())
	assert.True(t, in12.Open(ts(t, "2026-06-01T08:00:00+02:00")))
	assert.False(t, in12.Open(ts(t, "2026-06-02T09:00:00+02:00")), "days not listed are closed")
	due, err = sla.DueAt(in12, ts(t, "2026-06-01T15:50:00+02:00"), c.SLA.FirstResponse)
	require.NoError(t, err)
	assert.Equal(t, "2026-06-08T06:05:00Z", due.UTC().Format(time.RFC3339))
}

func TestLoadJSON(t *testing.T) {
	c, err := Load("../../../testdata/config/full.json")
	require.NoError(t, err)
	assert.Equal(t, SLA{FirstResponse: 30 * time.Minute, AtRiskFraction: 0.25, NextResponse: time.Hour, CountBots: true}, c.SLA)
	assert.Equal(t, Queue{AlertDepth: 20, EscalateDepth: 40}, c.Queue)
	assert.Equal(t, Health{CacheTTL: time.Minute, IngestQuietPeriod: 30 * time.Minute}, c.Health)
	assert.Equal(t, "Europe/Berlin", c.Calendar(12).Location().String())
	weekend := c.Calendar(7)
	assert.True(t, weekend.Open(ts(t, "2026-06-06T23:59:59Z")))
	assert.False(t, weekend.Open(ts(t, "2026-06-08T00:00:00Z")))
}

func TestDefaults(t *testing.T) {
	s, err := ReadSettings(env(nil))
	require.NoError(t, err)
	c := s.File
	assert.Equal(t, SLA{FirstResponse: 15 * time.Minute, AtRiskFraction: 0.2}, c.SLA)
	assert.Equal(t, Queue{AlertDepth: 50, EscalateDepth: 100}, c.Queue)
	assert.Equal(t, Health{CacheTTL: 5 * time.Minute, IngestQuietPeriod: time.Hour}, c.Health)
	cal := c.Calendar(1)
	assert.Equal(t, time.UTC, cal.Location())
	assert.Equal(t, 7*24*time.Hour, cal.Between(ts(t, "2026-06-01T00:00:00Z"), ts(t, "2026-06-08T00:00:00Z")))
}

// env serves vars as os.Getenv would.
func env(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

func TestReadSettings(t *testing.T) {
	path := filepath.Join(t.TempDir(), "support.yaml")
	require.NoError(t, os.WriteFile(path, []byte("sla: {first_response: 1h}\n"), 0o600))
	s, err := ReadSettings(env(map[string]string{"SUPPORT_CONFIG": path, "CHATWOOT_LIVE": "true",
		"CHATWOOT_BASE_URL": "https://chat.example.com/", "CHATWOOT_ACCOUNT_ID": "7", "SUPPORT_LOG_LEVEL": "debug"}))
	require.NoError(t, err)
	assert.Equal(t, time.Hour, s.File.SLA.FirstResponse)
	assert.Equal(t, 0.2, s.File.SLA.AtRiskFraction, "keys left out keep their defaults")
	assert.True(t, s.Live)
	assert.Equal(t, "https://chat.example.com", s.ChatwootURL)
	assert.Equal(t, int64(7), s.Account)
	assert.Equal(t, slog.LevelDebug, s.LogLevel)
	assert.Equal(t, float64(DefaultChatwootRatePerMinute), s.ChatwootRatePerMinute)
	assert.Equal(t, ".data", s.DataDir)

	inline, err := ReadSettings(env(map[string]string{"SUPPORT_CONFIG_YAML": "queue: {alert_depth: 5, escalate_depth: 8}"}))
	require.NoError(t, err)
	assert.Equal(t, Queue{AlertDepth: 5, EscalateDepth: 8}, inline.File.Queue, "the Lambda functions' inline file")

	missing := filepath.Join(t.TempDir(), "missing.yaml")
	for _, bad := range []struct{ key, value, want string }{
		{"SUPPORT_CONFIG", missing, "missing.yaml"},
		{"CHATWOOT_ACCOUNT_ID", "seven", "CHATWOOT_ACCOUNT_ID"},
		{"CHATWOOT_ACCOUNT_ID", "-1", "CHATWOOT_ACCOUNT_ID"},
		{"CHATWOOT_RATE_PER_MINUTE", "0", "CHATWOOT_RATE_PER_MINUTE"},
		{"SUPPORT_LOG_LEVEL", "loud", "SUPPORT_LOG_LEVEL"},
		{"SUPPORT_CONFIG_YAML", "sla: {first_respons: 1h}", "sla.first_respons"},
	} {
		_, err := ReadSettings(env(map[string]string{bad.key: bad.value}))
		assert.ErrorContains(t, err, bad.want, "%s=%s", bad.key, bad.value)
	}
}

func TestLoadNamesFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	require.NoError(t, os.WriteFile(path, []byte("sla: {first_response: 0s}\n"), 0o600))
	_, err := Load(path)
	assert.EqualError(t, err, "config "+path+": sla.first_response: 0s is not positive")
}

func TestParsePartial(t *testing.T) {
	for name, doc := range map[string]string{
		"empty":         "",
		"comment only":  "# nothing yet\n",
		"null sections": "sla:\nqueue:\nhealth:\nbusiness_hours:\n",
	} {
		c, err := Parse([]byte(doc))
		require.NoError(t, err, name)
		assert.Equal(t, 15*time.Minute, c.SLA.FirstResponse, name)
		assert.Equal(t, 100, c.Queue.EscalateDepth, name)
		assert.Equal(t, time.UTC, c.Calendar(12).Location(), name)
	}
}

func TestParseRejects(t *testing.T) {
	const head = "business_hours:\n  default:\n    timezone: America/New_York\n    weekly:\n"
	tests := []struct {
		name, doc, want string
	}{
		{"unknown top-level key", "business_hourz: {}\n",
			"business_hourz: unknown key (line 1)"},
		{"unknown calendar key", "business_hours:\n  default:\n    weekli: {}\n",
			"business_hours.default.weekli: unknown key (line 3)"},
		{"unknown inbox key, flow style", `business_hours: {inboxes: {"12": {timezone: UTC, weekly: {mon: ["08:00-16:00"]}, holiday: []}}}`,
			"business_hours.inboxes.12.holiday: unknown key (line 1)"},
		{"unknown day", head + "      mnd: [\"09:00-17:00\"]\n",
			"business_hours.default.weekly.mnd: unknown key (line 5)"},
		{"unknown sla key", "sla:\n  frist_response: 15m\n",
			"sla.frist_response: unknown key (line 2)"},
		{"close before open", head + "      mon: [\"17:00-09:00\"]\n",
			`business_hours.default.weekly.mon[0]: "17:00-09:00": closes before it opens`},
		{"malformed interval", head + "      mon: [\"9-5\"]\n",
			`business_hours.default.weekly.mon[0]: "9-5": want HH:MM-HH:MM`},
		{"bad minute", head + "      tue: [\"09:00-17:00\", \"18:00-18:75\"]\n",
			`business_hours.default.weekly.tue[1]: "18:00-18:75": closing 18:75 is not a time of day`},
		{"past midnight", head + "      fri: [\"20:00-24:30\"]\n",
			`business_hours.default.weekly.fri[0]: "20:00-24:30": closing 24:30 is not a time of day`},
		{"overlap", head + "      wed: [\"09:00-13:00\", \"12:00-17:00\"]\n",
			`business_hours.default.weekly.wed[1]: "12:00-17:00" overlaps "09:00-13:00"`},
		{"intervals not a list", head + "      mon: \"09:00-17:00\"\n",
			"business_hours.default.weekly.mon: cannot unmarshal !!str `09:00-1...` into []string (line 5)"},
		{"weekly not a map", "business_hours:\n  default:\n    weekly: mon-fri\n",
			"business_hours.default.weekly: cannot unmarshal !!str `mon-fri` into config.Weekly (line 3)"},
		{"no business hours at all", "business_hours:\n  default:\n    timezone: UTC\n    weekly: {sat: [], sun: []}\n",
			"business_hours.default.weekly: no day has business hours"},
		{"unknown time zone", "business_hours:\n  default:\n    timezone: Mars/Olympus_Mons\n    weekly: {mon: [\"09:00-17:00\"]}\n",
			`business_hours.default.timezone: unknown time zone "Mars/Olympus_Mons"`},
		{"host time zone", "business_hours:\n  default:\n    timezone: Local\n    weekly: {mon: [\"09:00-17:00\"]}\n",
			`business_hours.default.timezone: "Local" is not an IANA time zone name`},
		{"unknown inbox time zone", `business_hours: {inboxes: {"12": {timezone: Europe/Berlinn, weekly: {mon: ["08:00-16:00"]}}}}`,
			`business_hours.inboxes.12.timezone: unknown time zone "Europe/Berlinn"`},
		{"holiday not a date", head + "      mon: [\"09:00-17:00\"]\n    holidays: [\"2026-12-25\", \"25.12.2026\"]\n",
			`business_hours.default.holidays[1]: "25.12.2026" is not a YYYY-MM-DD date`},
		{"holiday impossible", head + "      mon: [\"09:00-17:00\"]\n    holidays: [\"2026-02-30\"]\n",
			`business_hours.default.holidays[0]: "2026-02-30" is not a YYYY-MM-DD date`},
		{"inbox id not a number", `business_hours: {inboxes: {support: {weekly: {mon: ["08:00-16:00"]}}}}`,
			`business_hours.inboxes.support: inbox id "support" is not a positive integer`},
		{"inbox listed twice", `business_hours: {inboxes: {"12": {weekly: {mon: ["08:00-16:00"]}}, "012": {weekly: {tue: ["08:00-16:00"]}}}}`,
			"business_hours.inboxes.12: inbox 12 is listed twice"},
		{"inbox interval", `business_hours: {inboxes: {"12": {weekly: {mon: ["16:00-08:00"]}}}}`,
			`business_hours.inboxes.12.weekly.mon[0]: "16:00-08:00": closes before it opens`},
		{"zero first response", "sla:\n  first_response: 0s\n",
			"sla.first_response: 0s is not positive"},
		{"negative first response", "sla:\n  first_response: -5m\n",
			"sla.first_response: -5m0s is not positive"},
		{"first response not a duration", "sla:\n  first_response: soon\n",
			"sla.first_response: cannot unmarshal !!str `soon` into time.Duration (line 2)"},
		{"first response without unit", "sla:\n  first_response: 900\n",
			"sla.first_response: cannot unmarshal !!int `900` into time.Duration (line 2)"},
		{"zero at-risk fraction", "sla:\n  at_risk_fraction: 0\n",
			"sla.at_risk_fraction: 0 is not between 0 and 1"},
		{"whole at-risk fraction", "sla:\n  at_risk_fraction: 1\n",
			"sla.at_risk_fraction: 1 is not between 0 and 1"},
		{"negative at-risk fraction", "sla:\n  at_risk_fraction: -0.1\n",
			"sla.at_risk_fraction: -0.1 is not between 0 and 1"},
		{"NaN at-risk fraction", "sla:\n  at_risk_fraction: .nan\n",
			"sla.at_risk_fraction: NaN is not between 0 and 1"},
		{"negative next response", "sla:\n  next_response: -1m\n",
			"sla.next_response: -1m0s is negative"},
		{"count_bots not a bool", "sla:\n  count_bots: maybe\n",
			"sla.count_bots: cannot unmarshal !!str `maybe` into bool (line 2)"},
		{"zero alert depth", "queue:\n  alert_depth: 0\n",
			"queue.alert_depth: 0 is not positive"},
		{"escalate below alert", "queue:\n  alert_depth: 50\n  escalate_depth: 10\n",
			"queue.escalate_depth: 10 is below alert_depth 50"},
		{"depth not a number", "queue:\n  alert_depth: many\n",
			"queue.alert_depth: cannot unmarshal !!str `many` into int (line 2)"},
		{"zero cache ttl", "health:\n  cache_ttl: 0s\n",
			"health.cache_ttl: 0s is not positive"},
		{"negative quiet period", "health:\n  ingest_quiet_period: -1h\n",
			"health.ingest_quiet_period: -1h0m0s is not positive"},
		{"long bad value", "health:\n  cache_ttl: five minutes\n",
			"health.cache_ttl: cannot unmarshal !!str `five mi...` into time.Duration (line 2)"},
		{"not yaml", "business_hours: [\n",
			"yaml: line 1"},
		{"not a mapping", "- sla\n",
			"cannot unmarshal !!seq into config.Config"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			assert.ErrorContains(t, err, tc.want)
		})
	}
}

func TestParseReportsEveryDecodeError(t *testing.T) {
	_, err := Parse([]byte("sla:\n  first_response: soon\n  at_risk: 0.1\nqueue:\n  alert_depth: many\n"))
	require.Error(t, err)
	for _, want := range []string{"sla.first_response: cannot unmarshal", "sla.at_risk: unknown key", "queue.alert_depth: cannot unmarshal"} {
		assert.ErrorContains(t, err, want)
	}
}

func TestDrafting(t *testing.T) {
	c, err := Parse(nil)
	require.NoError(t, err)
	assert.Equal(t, drafting.DefaultConfig(), c.Drafting.Config, "a file without drafting: gets the defaults")

	c, err = Parse([]byte(`drafting:
  provider: openai
  knowledge: kb.yaml
  min_score: 0.3
  canned_refresh: 5m
  openai: { base_url: "http://127.0.0.1:11434/v1", model: llama3.1 }
`))
	require.NoError(t, err)
	want := drafting.DefaultConfig()
	want.Provider, want.Knowledge, want.MinScore, want.CannedRefresh = drafting.OpenAI, "kb.yaml", 0.3, 5*time.Minute
	want.OpenAI = drafting.OpenAIConfig{BaseURL: "http://127.0.0.1:11434/v1", Model: "llama3.1"}
	assert.Equal(t, want, c.Drafting.Config, "keys left out keep their defaults")

	for doc, msg := range map[string]string{
		"drafting: {providr: bedrock}":                     "drafting.providr",
		"drafting: {bedrock: {model: x}}":                  "drafting.bedrock.model",
		"drafting: {provider: gpt}":                        `drafting.provider: "gpt" is not retrieval, bedrock or openai`,
		"drafting: {provider: bedrock}":                    "drafting.bedrock.model_id: needed by provider bedrock",
		"drafting: {timeout: soon}":                        "drafting.timeout",
		"drafting: {fallback: retry, max_tokens: 0}":       "drafting.max_tokens",
		"drafting: {provider: openai, openai: {model: m}}": "", // the default base URL is OpenAI's
	} {
		_, err := Parse([]byte(doc))
		if msg == "" {
			assert.NoError(t, err, doc)
			continue
		}
		assert.ErrorContains(t, err, msg, doc)
	}
}

// TestTags: the file's rules are checked at start and merged over the
// built-in ones by name; without any, the built-in rules stand unchecked
// (they are tested with the tagger) so that a cold start does not compile
// them.
func TestTags(t *testing.T) {
	c, err := Parse(nil)
	require.NoError(t, err)
	assert.Empty(t, c.Tags.Extra)
	assert.Equal(t, tagging.DefaultRules(), c.Tags.Rules())

	c, err = Parse([]byte("tags:\n  - name: billing\n    any: [invoice]\n  - name: returns\n    any: [return label]\n"))
	require.NoError(t, err)
	rules := c.Tags.Rules()
	assert.Len(t, rules, len(tagging.DefaultRules())+1)
	i := slices.IndexFunc(rules, func(r tagging.Rule) bool { return r.Name == "billing" })
	require.GreaterOrEqual(t, i, 0)
	assert.Equal(t, []string{"invoice"}, rules[i].Any, "a file's rule replaces the built-in one of its name")
	assert.Equal(t, "returns", rules[len(rules)-1].Name)

	_, err = Parse([]byte("tags:\n  - name: broken\n    any: [\"a/\"]\n"))
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "tags:"), err.Error())
}
