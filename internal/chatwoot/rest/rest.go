// Package rest is the port through which the pipeline acts on Chatwoot
// (labels, priority, private notes, team assignment) and reads from it for
// reconciliation and drafting. HTTPClient talks to the REST API; Offline stands in for it
// when CHATWOOT_LIVE is not true.
package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/support/drafting"
)

// NotePrefix starts every private note the pipeline writes. Chatwoot echoes
// each note back as a message_created webhook; the prefix tells agents, and
// the processor, that a note is ours even when an agent copies it.
const NotePrefix = "[supportpipe]"

// MarkerKey is set to true in the content_attributes of our notes. Chatwoot's
// message builder stores the whole content_attributes hash it is given, so
// the marker comes back in the webhook of the note and in the REST API.
const MarkerKey = "supportpipe"

// Client is the Chatwoot port used by the processor and the reconciler.
// Conversation ids are display ids, as in webhooks and REST paths.
type Client interface {
	// Labels returns the conversation's labels.
	Labels(ctx context.Context, account, conversation int64) ([]string, error)
	// AddLabels merges add into the conversation's labels and returns the
	// resulting set. Chatwoot's label POST replaces the whole set, so this
	// reads the current labels and writes the union only if it changed.
	AddLabels(ctx context.Context, account, conversation int64, add []string) ([]string, error)
	// SetPriority sets low, medium, high or urgent.
	SetPriority(ctx context.Context, account, conversation int64, priority string) error
	// PrivateNote adds a private note, prefixed with NotePrefix.
	PrivateNote(ctx context.Context, account, conversation int64, content string) error
	// AssignTeam assigns the conversation to a team. Chatwoot answers a team
	// the account does not have with 200 and null, having removed the
	// conversation's team: that is an error.
	AssignTeam(ctx context.Context, account, conversation int64, teamID int64) error
	// Teams lists the account's teams.
	Teams(ctx context.Context, account int64) ([]Team, error)
	// Profile returns the token owner's profile; it checks the token works.
	Profile(ctx context.Context) (Profile, error)
	// Conversations lists the account's conversations of any status
	// updated in the last within, for reconciliation.
	Conversations(ctx context.Context, account int64, within time.Duration) ([]Conversation, error)
	// Messages returns the conversation's messages, oldest first.
	Messages(ctx context.Context, account, conversation int64) ([]Message, error)
	// RecentMessages returns the conversation's latest messages (the last
	// page Chatwoot serves, up to 20), oldest first: one call, where
	// Messages pages through the whole history.
	RecentMessages(ctx context.Context, account, conversation int64) ([]Message, error)
	// CannedResponses lists the account's canned responses, which the
	// drafting agent draws its replies from.
	CannedResponses(ctx context.Context, account int64) ([]drafting.Canned, error)
}

// Profile is the part of GET /api/v1/profile the pipeline needs. The response
// also holds the access token and the user's email; they are deliberately
// not decoded, so they cannot leak through logs or errors.
type Profile struct {
	ID       int64            `json:"id"`
	Name     string           `json:"name"`
	Accounts []ProfileAccount `json:"accounts"`
}

// ProfileAccount is an account the token's user belongs to. Role is
// "administrator" or "agent"; the pipeline needs an administrator.
type ProfileAccount struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// Team is the part of a team (GET /api/v1/accounts/{id}/teams) the
// pipeline needs.
type Team struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// Conversation is a conversation as the REST API returns it. It embeds the
// webhook shape, which chatwoot.Time and chatwoot.MessageType already decode
// in its REST variant (integer first_reply_created_at, push-format messages),
// so reconciliation can merge it like a webhook; REST adds the account id.
type Conversation struct {
	chatwoot.Conversation
	AccountID int64 `json:"account_id"`
}

// Message is a message from the messages endpoint: the push format, with an
// integer message_type and created_at.
type Message = chatwoot.Message

// IsOwnNote reports whether m is a private note this package wrote, so the
// processor can ignore the webhook it causes.
func IsOwnNote(m *Message) bool {
	if !m.Private {
		return false
	}
	if strings.HasPrefix(m.Content, NotePrefix) {
		return true
	}
	var attrs map[string]json.RawMessage
	if json.Unmarshal(m.ContentAttributes, &attrs) != nil {
		return false
	}
	return string(attrs[MarkerKey]) == "true"
}

// noteContent prefixes content with NotePrefix unless it already starts with it.
func noteContent(content string) (string, error) {
	if strings.TrimSpace(strings.TrimPrefix(content, NotePrefix)) == "" {
		return "", errors.New("chatwoot api: empty note")
	}
	if strings.HasPrefix(content, NotePrefix) {
		return content, nil
	}
	return NotePrefix + " " + content, nil
}

// checkPriority rejects anything Chatwoot's enum does not hold. Swagger lists
// "none", but the server would fail on it.
func checkPriority(p string) error {
	switch p {
	case "low", "medium", "high", "urgent":
		return nil
	}
	return fmt.Errorf("chatwoot api: invalid priority %q (want low, medium, high or urgent)", p)
}

func checkIDs(account, conv int64) error {
	if account <= 0 || conv <= 0 {
		return fmt.Errorf("chatwoot api: invalid account %d or conversation %d", account, conv)
	}
	return nil
}

func checkAccount(account int64) error {
	if account <= 0 {
		return fmt.Errorf("chatwoot api: invalid account %d", account)
	}
	return nil
}

func checkTeam(team int64) error {
	if team <= 0 {
		return fmt.Errorf("chatwoot api: invalid team %d", team)
	}
	return nil
}

func checkLabels(labels []string) error {
	for _, l := range labels {
		if strings.TrimSpace(l) == "" {
			return errors.New("chatwoot api: empty label")
		}
	}
	return nil
}

func checkWindow(account int64, within time.Duration) error {
	if account <= 0 || within <= 0 {
		return fmt.Errorf("chatwoot api: invalid account %d or window %v", account, within)
	}
	return nil
}

// union appends to cur the labels of add it lacks, keeping cur's order, and
// reports whether any were added.
func union(cur, add []string) ([]string, bool) {
	out := slices.Clone(cur)
	for _, l := range add {
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, len(out) > len(cur)
}
