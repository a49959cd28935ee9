// Package config loads the pipeline's configuration file (docs/design.md §4): one
// YAML document (JSON works too), checked strictly at start so that a typo or
// an impossible value stops the service with a message that names the key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"reflect"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/escalation"
	"supportpipe/internal/support/sla"
	"supportpipe/internal/support/tagging"
)

// Config is the whole file, as returned by Parse, Load and FromEnv. Each
// field is a section under its YAML key; a section type may set its defaults
// (setDefaults) and check its values (check), which Parse finds by
// reflection, so adding a section is one field here plus its own type.
type Config struct {
	BusinessHours BusinessHours `yaml:"business_hours"`
	SLA           SLA           `yaml:"sla"`
	Queue         Queue         `yaml:"queue"`
	Health        Health        `yaml:"health"`
	Escalation    Escalation    `yaml:"escalation"`
	Tags          Tags          `yaml:"tags"`
	Drafting      Drafting      `yaml:"drafting"`
}

// Drafting chooses and tunes the drafting provider (docs/drafts.md).
type Drafting struct {
	drafting.Config `yaml:",inline"`
}

func (d *Drafting) setDefaults() { d.Config = drafting.DefaultConfig() }

func (d *Drafting) check(key string) error { return d.Config.Check(key) }

// Tags are tag rules added to the built-in ones (urgent, billing, shipping,
// refund, account); a rule with a built-in name replaces it.
type Tags struct {
	// Extra are the file's rules. Only they need checking: the built-in
	// ones are tested, and compiling them all takes milliseconds that the
	// functions which never tag (every one but the processor) need not pay
	// at each cold start.
	Extra []tagging.Rule
}

// UnmarshalYAML reads the list of rules under `tags`, strictly.
func (t *Tags) UnmarshalYAML(n *yaml.Node) error {
	var extra []tagging.Rule
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&extra); err != nil {
		return err
	}
	t.Extra = append(t.Extra, extra...)
	return nil
}

// Rules is the set the tagger uses: the built-in rules, each replaced by
// a file's rule of its name, then the file's other rules.
func (t Tags) Rules() []tagging.Rule {
	merged := tagging.DefaultRules()
	index := map[string]int{}
	for i, r := range merged {
		index[r.Name] = i
	}
	for _, r := range t.Extra {
		if i, ok := index[r.Name]; ok {
			merged[i] = r
			continue
		}
		index[r.Name] = len(merged)
		merged = append(merged, r)
	}
	return merged
}

func (t *Tags) check(key string) error {
	if len(t.Extra) == 0 {
		return nil
	}
	if _, err := tagging.New(t.Rules()); err != nil {
		return fmt.Errorf("%s: %w", key, err)
	}
	return nil
}

// Escalation holds the VIP rules, the anger threshold and the optional team.
type Escalation struct {
	escalation.Config `yaml:",inline"`
}

// DefaultAngerThreshold is used until a file sets escalation.anger_threshold:
// the threshold the anger model was tuned for (anger.DefaultThreshold; a
// test in internal/runtime/local keeps the two equal).
var DefaultAngerThreshold = 0.23

func (e *Escalation) setDefaults() { e.AngerThreshold = DefaultAngerThreshold }

func (e *Escalation) check(key string) error {
	if !(e.AngerThreshold > 0 && e.AngerThreshold <= 1) {
		return fmt.Errorf("%s.anger_threshold: %v is not in (0, 1]", key, e.AngerThreshold)
	}
	if e.TeamID < 0 {
		return fmt.Errorf("%s.team_id: %d is negative", key, e.TeamID)
	}
	for i, d := range e.VIP.Domains {
		if strings.TrimSpace(d) == "" || strings.Contains(d, " ") {
			return fmt.Errorf("%s.vip.domains[%d]: %q is not a domain", key, i, d)
		}
	}
	return nil
}

// A section with defaults sets them before the file is decoded over it, so
// that keys the file leaves out keep them.
type defaulter interface{ setDefaults() }

// A section with a check validates itself after decoding, and may derive
// what it serves (business hours build their calendars); key is its key
// path, to start error messages with.
type checker interface{ check(key string) error }

// SLA holds the response targets, counted in business time.
type SLA struct {
	FirstResponse time.Duration `yaml:"first_response"`
	// AtRiskFraction is the share of a target left at which a conversation
	// turns at risk.
	AtRiskFraction float64 `yaml:"at_risk_fraction"`
	// NextResponse is the target for answers after the first; 0 for none.
	NextResponse time.Duration `yaml:"next_response"`
	// CountBots makes agent-bot replies count as responses. Chatwoot counts
	// only humans (Message#human_response?).
	CountBots bool `yaml:"count_bots"`
}

func (s *SLA) setDefaults() {
	s.FirstResponse = 15 * time.Minute
	s.AtRiskFraction = 0.2
}

func (s *SLA) check(key string) error {
	if s.FirstResponse <= 0 {
		return fmt.Errorf("%s.first_response: %v is not positive", key, s.FirstResponse)
	}
	// Negated so that NaN fails too.
	if !(s.AtRiskFraction > 0 && s.AtRiskFraction < 1) {
		return fmt.Errorf("%s.at_risk_fraction: %v is not between 0 and 1", key, s.AtRiskFraction)
	}
	if s.NextResponse < 0 {
		return fmt.Errorf("%s.next_response: %v is negative", key, s.NextResponse)
	}
	return nil
}

// Queue holds the queue-depth thresholds for alerting and escalation.
type Queue struct {
	AlertDepth    int `yaml:"alert_depth"`
	EscalateDepth int `yaml:"escalate_depth"`
}

func (q *Queue) setDefaults() { q.AlertDepth, q.EscalateDepth = 50, 100 }

func (q *Queue) check(key string) error {
	if q.AlertDepth <= 0 {
		return fmt.Errorf("%s.alert_depth: %d is not positive", key, q.AlertDepth)
	}
	if q.EscalateDepth < q.AlertDepth {
		return fmt.Errorf("%s.escalate_depth: %d is below alert_depth %d", key, q.EscalateDepth, q.AlertDepth)
	}
	return nil
}

// Health holds the settings of /support/health.
type Health struct {
	// CacheTTL is how long a health result is served before checking again.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// IngestQuietPeriod is how long without a webhook before ingest is
	// reported as degraded.
	IngestQuietPeriod time.Duration `yaml:"ingest_quiet_period"`
}

func (h *Health) setDefaults() { h.CacheTTL, h.IngestQuietPeriod = 5*time.Minute, time.Hour }

func (h *Health) check(key string) error {
	if h.CacheTTL <= 0 {
		return fmt.Errorf("%s.cache_ttl: %v is not positive", key, h.CacheTTL)
	}
	if h.IngestQuietPeriod <= 0 {
		return fmt.Errorf("%s.ingest_quiet_period: %v is not positive", key, h.IngestQuietPeriod)
	}
	return nil
}

// Load reads and checks the file at path.
func Load(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes and checks a configuration document; an empty one gives the
// defaults. Keys not in Config are errors.
func Parse(b []byte) (*Config, error) {
	c := new(Config)
	for _, s := range c.sections() {
		if d, ok := s.(defaulter); ok {
			d.setDefaults()
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	switch err := dec.Decode(c); {
	case errors.Is(err, io.EOF): // empty document
	case err != nil:
		var te *yaml.TypeError
		if errors.As(err, &te) {
			return nil, locate(te, b)
		}
		return nil, err
	}
	for key, s := range c.sections() {
		if ch, ok := s.(checker); ok {
			if err := ch.check(key); err != nil {
				return nil, err
			}
		}
	}
	return c, nil
}

// sections yields each section of c, as a pointer, with its key.
func (c *Config) sections() iter.Seq2[string, any] {
	return func(yield func(string, any) bool) {
		v := reflect.ValueOf(c).Elem()
		for i := range v.NumField() {
			key, _, _ := strings.Cut(v.Type().Field(i).Tag.Get("yaml"), ",")
			if !yield(key, v.Field(i).Addr().Interface()) {
				return
			}
		}
	}
}

// Calendar returns the business hours of an inbox: its own entry under
// business_hours.inboxes, else the default.
func (c *Config) Calendar(inboxID int64) *sla.Calendar {
	if cal, ok := c.BusinessHours.inboxes[inboxID]; ok {
		return cal
	}
	return c.BusinessHours.def
}
