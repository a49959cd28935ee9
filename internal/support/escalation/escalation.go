// Package escalation decides when a conversation needs a human lead (angry
// customer, VIP, SLA breach) and applies the escalation in Chatwoot once per
// conversation and reason.
package escalation

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// Reasons, in the order a note lists them.
const (
	ReasonAngry     = "angry_language"
	ReasonVIP       = "vip"
	ReasonSLABreach = "sla_breach"
)

// Label is the Chatwoot label an escalated conversation gets.
const Label = "escalated"

// DayRecordKind is the kind of the per-day records the report counts.
const DayRecordKind = "escalation"

// VIP says who counts as a VIP. Any rule matching is enough.
type VIP struct {
	// CustomAttribute names a contact custom attribute whose truthy value
	// (true, "true", "yes", "1", or any non-empty tier name) marks a VIP.
	CustomAttribute string `yaml:"custom_attribute" json:"custom_attribute"`
	// Labels on the conversation that mark a VIP (contact labels are not in
	// Chatwoot's webhooks, so tag the conversation instead).
	Labels []string `yaml:"labels" json:"labels"`
	// Emails and Domains match the contact's email, case-insensitively.
	Emails  []string `yaml:"emails" json:"emails"`
	Domains []string `yaml:"domains" json:"domains"`
}

// Config is the escalation part of the configuration.
type Config struct {
	VIP VIP `yaml:"vip" json:"vip"`
	// AngerThreshold is the anger score at or above which a message escalates.
	AngerThreshold float64 `yaml:"anger_threshold" json:"anger_threshold"`
	// TeamID, if set, assigns escalated conversations to that Chatwoot team.
	TeamID int64 `yaml:"team_id" json:"team_id"`
}

// teamCheckTimeout bounds the start-up check, which runs inside a Lambda
// cold start (10 s in all).
const teamCheckTimeout = 5 * time.Second

// CheckTeam refuses a TeamID the Chatwoot account does not have: Chatwoot
// would answer each assignment by removing the conversation's team. It is
// for start-up with the live client (the offline client lists no teams). When it
// cannot tell (no account configured, Chatwoot unreachable) it logs and lets
// start-up go on: an assignment to a missing team fails by itself
// (rest.Client.AssignTeam) and is retried, never recorded done.
func (c Config) CheckTeam(ctx context.Context, client rest.Client, account int64, log *slog.Logger) error {
	if c.TeamID <= 0 {
		return nil
	}
	if account <= 0 {
		log.LogAttrs(ctx, slog.LevelWarn, "escalation.team_id not checked: no Chatwoot account configured",
			slog.Int64("team_id", c.TeamID))
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, teamCheckTimeout)
	defer cancel()
	teams, err := client.Teams(ctx, account)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelWarn, "escalation.team_id not checked", slog.Int64("team_id", c.TeamID),
			slog.Int64("account_id", account), slog.String("error", err.Error()))
		return nil
	}
	ids := make([]string, 0, len(teams))
	for _, t := range teams {
		if t.ID == c.TeamID {
			return nil
		}
		ids = append(ids, strconv.FormatInt(t.ID, 10))
	}
	has := "no teams"
	if len(ids) > 0 {
		has = "teams " + strings.Join(ids, ", ")
	}
	return fmt.Errorf("escalation.team_id: Chatwoot account %d has no team %d (it has %s)", account, c.TeamID, has)
}

// IsVIP applies the rules to a contact and the conversation labels.
func (v VIP) IsVIP(contact *chatwoot.Sender, labels []string) bool {
	for _, l := range labels {
		if slices.ContainsFunc(v.Labels, func(x string) bool { return strings.EqualFold(x, l) }) {
			return true
		}
	}
	if contact == nil {
		return false
	}
	if v.CustomAttribute != "" && truthy(contact.CustomAttributes[v.CustomAttribute]) {
		return true
	}
	email := strings.ToLower(strings.TrimSpace(contact.Email))
	if email == "" {
		return false
	}
	for _, e := range v.Emails {
		if strings.EqualFold(strings.TrimSpace(e), email) {
			return true
		}
	}
	_, domain, _ := strings.Cut(email, "@")
	for _, d := range v.Domains {
		d = strings.ToLower(strings.TrimPrefix(strings.TrimSpace(d), "@"))
		if d != "" && (domain == d || strings.HasSuffix(domain, "."+d)) {
			return true
		}
	}
	return false
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "", "false", "no", "0", "none", "off":
			return false
		}
		return true
	case float64:
		return x != 0
	}
	return false
}

// Escalator applies escalations. Every Chatwoot call goes through
// store.Once, so redeliveries and the sweeper never repeat an effect.
type Escalator struct {
	Store    store.Store
	Chatwoot rest.Client
	Config   Config
	Log      *slog.Logger
	Now      func() time.Time
}

// Escalate applies what the reasons not yet applied to the conversation
// call for: the `escalated` label (merged), priority urgent and the team if
// configured — once per conversation — and one private note listing the new
// reasons. detail maps a reason to a short explanation (no PII).
// owner names the caller for the effect claims (store.Action.Owner).
func (e *Escalator) Escalate(ctx context.Context, k conversation.Key, owner string, reasons []string, detail map[string]string) error {
	done, err := e.applied(ctx, k)
	if err != nil {
		return err
	}
	var fresh []string
	for _, r := range reasons {
		if !done[r] && !slices.Contains(fresh, r) {
			fresh = append(fresh, r)
		}
	}
	if len(fresh) == 0 {
		return nil
	}
	slices.Sort(fresh)
	now := e.Now()
	steps := []step{
		{"label:" + Label, "label", map[string]any{"add": []string{Label}}, func(ctx context.Context) (string, error) {
			set, err := e.Chatwoot.AddLabels(ctx, k.AccountID, k.ConversationID, []string{Label})
			return jsonString(set), err
		}},
		{"priority:urgent", "priority", map[string]string{"priority": "urgent"}, func(ctx context.Context) (string, error) {
			return "", e.Chatwoot.SetPriority(ctx, k.AccountID, k.ConversationID, "urgent")
		}},
	}
	if team := e.Config.TeamID; team > 0 {
		steps = append(steps, step{"team:" + strconv.FormatInt(team, 10), "team", map[string]int64{"team_id": team},
			func(ctx context.Context) (string, error) {
				return "", e.Chatwoot.AssignTeam(ctx, k.AccountID, k.ConversationID, team)
			}})
	}
	note := Note(fresh, detail)
	steps = append(steps, step{"note:escalation:" + strings.Join(fresh, "+"), "note", map[string]any{"reasons": fresh},
		func(ctx context.Context) (string, error) {
			return "", e.Chatwoot.PrivateNote(ctx, k.AccountID, k.ConversationID, note)
		}})
	for _, r := range fresh {
		r := r
		steps = append(steps, step{"escalation:" + r, "escalation", map[string]string{"reason": r}, func(ctx context.Context) (string, error) {
			rec := store.DayRecord{Day: stats.Day(now), Kind: DayRecordKind, ID: fmt.Sprintf("%d:%d:%s", k.AccountID, k.ConversationID, r),
				Data: jsonString(map[string]any{"reason": r, "account_id": k.AccountID, "conversation_id": k.ConversationID}), At: now}
			return "", e.Store.AddDayRecord(ctx, rec)
		}})
	}
	for _, s := range steps {
		a := store.Action{Key: k, ID: s.id, Kind: s.kind, Owner: owner, Detail: jsonString(s.detail), At: now}
		ran, err := store.Once(ctx, e.Store, a, s.fn)
		if err != nil {
			return err
		}
		if !ran && s.kind == "note" {
			// Skipped: posted, or being posted by another worker for the
			// same reasons (the note's id names them), which records the
			// escalation once its note is posted. Recorded here first, the
			// reasons would count as escalated even if that post failed,
			// and no later escalation would post the note again.
			cur, ok, err := e.Store.Action(ctx, k, s.id)
			if err != nil {
				return fmt.Errorf("read %s: %w", s.id, err)
			}
			if ok && cur.Status != store.ActionDone {
				return nil
			}
		}
	}
	e.Log.LogAttrs(ctx, slog.LevelInfo, "conversation escalated", slog.Int64("account_id", k.AccountID),
		slog.Int64("conversation_id", k.ConversationID), slog.String("reasons", strings.Join(fresh, ",")))
	return nil
}

type step struct {
	id, kind string
	detail   any
	fn       func(context.Context) (string, error)
}

// applied returns the reasons already escalated for the conversation.
func (e *Escalator) applied(ctx context.Context, k conversation.Key) (map[string]bool, error) {
	acts, err := e.Store.Actions(ctx, k)
	if err != nil {
		return nil, fmt.Errorf("read actions: %w", err)
	}
	done := map[string]bool{}
	for _, r := range Reasons(acts) {
		done[r] = true
	}
	return done, nil
}

// Reasons lists the reasons already escalated, from a conversation's actions.
func Reasons(acts []store.Action) []string {
	var out []string
	for _, a := range acts {
		if r, ok := strings.CutPrefix(a.ID, "escalation:"); ok && a.Status == store.ActionDone {
			out = append(out, r)
		}
	}
	return out
}

var reasonText = map[string]string{
	ReasonAngry:     "angry language",
	ReasonVIP:       "VIP customer",
	ReasonSLABreach: "first-response SLA breached",
}

// Note is the private note listing the reasons of an escalation.
func Note(reasons []string, detail map[string]string) string {
	parts := make([]string, 0, len(reasons))
	for _, r := range reasons {
		text := reasonText[r]
		if text == "" {
			text = r
		}
		if why := detail[r]; why != "" {
			text += " (" + why + ")"
		}
		parts = append(parts, text)
	}
	return rest.NotePrefix + " Escalated: " + strings.Join(parts, "; ") + ". Priority set to urgent."
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
