package rest

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
	"supportpipe/internal/support/drafting"
)

// Client method names, as recorded in Call.Op.
const (
	OpLabels          = "Labels"
	OpAddLabels       = "AddLabels"
	OpSetPriority     = "SetPriority"
	OpPrivateNote     = "PrivateNote"
	OpAssignTeam      = "AssignTeam"
	OpProfile         = "Profile"
	OpConversations   = "Conversations"
	OpMessages        = "Messages"
	OpRecentMessages  = "RecentMessages"
	OpTeams           = "Teams"
	OpCannedResponses = "CannedResponses"
)

// LabelSource supplies a conversation's labels the first time the Offline
// sees it, so merges start from what the pipeline knows; store.Store
// satisfies it.
type LabelSource interface {
	Conversation(ctx context.Context, k conversation.Key) (conversation.State, bool, error)
}

// Call is one Client call the Offline received. Only the fields of its Op
// are set.
type Call struct {
	Op string
	conversation.Key
	// Labels is what AddLabels was asked to add; Changed reports whether the
	// set grew, i.e. whether the HTTP client would have written it.
	Labels  []string
	Changed bool
	// Priority is what SetPriority set.
	Priority string
	// Content is the note as PrivateNote would send it, prefix included.
	Content string
	TeamID  int64
	// Within is the window Conversations was asked for.
	Within time.Duration
}

// Offline is the Client used when CHATWOOT_LIVE is not true. It makes no
// network calls: it validates and records each call, and keeps label sets in
// memory so AddLabels merges as Chatwoot would, and the notes it was given
// so PrivateNote finds them as Chatwoot's messages. Reads of conversations
// return nothing, of messages the notes; canned responses, those set by
// SetCanned. It is safe for concurrent use.
type Offline struct {
	src LabelSource // may be nil

	mu     sync.Mutex
	labels map[conversation.Key][]string
	canned map[int64][]drafting.Canned
	calls  []Call
	notes  map[conversation.Key][]Message // created on the first note
	nextID int64
}

var _ Client = (*Offline)(nil)

// NewOffline returns an Offline that seeds labels from src; src may be nil.
func NewOffline(src LabelSource) *Offline {
	return &Offline{src: src, labels: map[conversation.Key][]string{}, canned: map[int64][]drafting.Canned{}}
}

// SetCanned replaces the canned responses the Offline holds for an account.
func (r *Offline) SetCanned(account int64, canned []drafting.Canned) {
	r.mu.Lock()
	r.canned[account] = slices.Clone(canned)
	r.mu.Unlock()
}

// SetLabels replaces the labels the Offline holds for a conversation.
func (r *Offline) SetLabels(account, conv int64, labels []string) {
	r.mu.Lock()
	r.labels[conversation.Key{AccountID: account, ConversationID: conv}] = slices.Clone(labels)
	r.mu.Unlock()
}

// Calls returns the calls received so far, in order.
func (r *Offline) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Call, len(r.calls))
	for i, c := range r.calls {
		c.Labels = slices.Clone(c.Labels)
		out[i] = c
	}
	return out
}

func (r *Offline) record(c Call) {
	r.mu.Lock()
	r.calls = append(r.calls, c)
	r.mu.Unlock()
}

// seed loads k's labels from the source unless the Offline holds them.
// The source is read without the lock; a concurrent seed or SetLabels wins.
func (r *Offline) seed(ctx context.Context, k conversation.Key) error {
	r.mu.Lock()
	_, ok := r.labels[k]
	r.mu.Unlock()
	if ok || r.src == nil {
		return nil
	}
	st, _, err := r.src.Conversation(ctx, k)
	if err != nil {
		return fmt.Errorf("chatwoot api: seed labels: %w", err)
	}
	r.mu.Lock()
	if _, ok := r.labels[k]; !ok {
		r.labels[k] = slices.Clone(st.Labels)
	}
	r.mu.Unlock()
	return nil
}

func key(account, conv int64) (conversation.Key, error) {
	return conversation.Key{AccountID: account, ConversationID: conv}, checkIDs(account, conv)
}

// Labels implements Client.
func (r *Offline) Labels(ctx context.Context, account, conv int64) ([]string, error) {
	k, err := key(account, conv)
	if err != nil {
		return nil, err
	}
	if err := r.seed(ctx, k); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{Op: OpLabels, Key: k})
	return slices.Clone(r.labels[k]), nil
}

// AddLabels implements Client.
func (r *Offline) AddLabels(ctx context.Context, account, conv int64, add []string) ([]string, error) {
	k, err := key(account, conv)
	if err != nil {
		return nil, err
	}
	if err := checkLabels(add); err != nil {
		return nil, err
	}
	if err := r.seed(ctx, k); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	next, changed := union(r.labels[k], add)
	r.labels[k] = next
	r.calls = append(r.calls, Call{Op: OpAddLabels, Key: k, Labels: slices.Clone(add), Changed: changed})
	return slices.Clone(next), nil
}

// SetPriority implements Client.
func (r *Offline) SetPriority(_ context.Context, account, conv int64, priority string) error {
	k, err := key(account, conv)
	if err != nil {
		return err
	}
	if err := checkPriority(priority); err != nil {
		return err
	}
	r.record(Call{Op: OpSetPriority, Key: k, Priority: priority})
	return nil
}

// PrivateNote implements Client. Like HTTPClient, a note posted again
// under store.Once (store.Resumed) is not added, nor recorded, when it is
// there already.
func (r *Offline) PrivateNote(ctx context.Context, account, conv int64, content string) error {
	k, err := key(account, conv)
	if err != nil {
		return err
	}
	content, err = noteContent(content)
	if err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if store.Resumed(ctx) && HasNote(r.notes[k], content) {
		return nil
	}
	if r.notes == nil {
		r.notes = map[conversation.Key][]Message{}
	}
	r.nextID++
	r.notes[k] = append(r.notes[k], Message{ID: r.nextID, Content: content, MessageType: chatwoot.Outgoing, Private: true,
		ContentAttributes: json.RawMessage(`{"` + MarkerKey + `":true}`), CreatedAt: chatwoot.Time{Time: time.Now().UTC()},
		AccountID: account, ConversationID: conv})
	r.calls = append(r.calls, Call{Op: OpPrivateNote, Key: k, Content: content})
	return nil
}

// AssignTeam implements Client.
func (r *Offline) AssignTeam(_ context.Context, account, conv int64, teamID int64) error {
	k, err := key(account, conv)
	if err != nil {
		return err
	}
	if err := checkTeam(teamID); err != nil {
		return err
	}
	r.record(Call{Op: OpAssignTeam, Key: k, TeamID: teamID})
	return nil
}

// Profile implements Client with a fixed profile named "mock".
func (r *Offline) Profile(context.Context) (Profile, error) {
	r.record(Call{Op: OpProfile})
	return Profile{Name: "mock"}, nil
}

// Conversations implements Client; the Offline knows no conversations.
func (r *Offline) Conversations(_ context.Context, account int64, within time.Duration) ([]Conversation, error) {
	if err := checkWindow(account, within); err != nil {
		return nil, err
	}
	r.record(Call{Op: OpConversations, Key: conversation.Key{AccountID: account}, Within: within})
	return nil, nil
}

// Teams implements Client; the Offline knows no teams, and assigns any.
func (r *Offline) Teams(_ context.Context, account int64) ([]Team, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	r.record(Call{Op: OpTeams, Key: conversation.Key{AccountID: account}})
	return nil, nil
}

// Messages implements Client; the Offline knows only its notes.
func (r *Offline) Messages(_ context.Context, account, conv int64) ([]Message, error) {
	return r.messages(OpMessages, account, conv)
}

// RecentMessages implements Client, as Messages.
func (r *Offline) RecentMessages(_ context.Context, account, conv int64) ([]Message, error) {
	return r.messages(OpRecentMessages, account, conv)
}

func (r *Offline) messages(op string, account, conv int64) ([]Message, error) {
	k, err := key(account, conv)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{Op: op, Key: k})
	return slices.Clone(r.notes[k]), nil
}

// CannedResponses implements Client with the responses set by SetCanned,
// or, for an account SetCanned has not set, SampleCanned's: the stand-in
// account has the canned responses a support team would keep, so the local
// pipeline drafts suggestions as it would against Chatwoot.
func (r *Offline) CannedResponses(_ context.Context, account int64) ([]drafting.Canned, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = append(r.calls, Call{Op: OpCannedResponses, Key: conversation.Key{AccountID: account}})
	if c, ok := r.canned[account]; ok {
		return slices.Clone(c), nil
	}
	return SampleCanned(), nil
}

//go:embed offline_canned.yaml
var sampleCanned []byte

// SampleCanned is the stand-in account's canned responses
// (offline_canned.yaml).
func SampleCanned() []drafting.Canned {
	c, err := drafting.ParseKnowledgeYAML(sampleCanned, "offline_canned.yaml")
	if err != nil {
		panic(err) // embedded and tested: a broken file fails every test
	}
	return c
}
