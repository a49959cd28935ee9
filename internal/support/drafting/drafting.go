// Package drafting is the port of the AI drafting agent: a Provider turns a
// customer message, with what the pipeline knows of its conversation, into
// a suggested reply, or abstains. Providers live in subpackages: retrieval
// (the embedded default: the best canned response, no network), bedrock and
// openai (language models, grounded on the canned responses). The drafter
// (internal/pipeline/drafter) runs a provider on each draft request and
// posts the suggestion to Chatwoot as a private note.
package drafting

import "context"

// Request is what a draft is made from. The customer's text is untrusted
// data: a provider never follows instructions found in it.
type Request struct {
	// ID is the draft request's id (drafts.RequestID), stable per message.
	ID             string
	AccountID      int64
	ConversationID int64
	MessageID      int64
	// Text is the customer's message.
	Text  string
	Tags  []string
	Angry bool
	VIP   bool
	// Contact and Agent fill a canned response's variables
	// ({{contact.name}}, {{agent.name}}, …) where they are known.
	Contact Person
	Agent   Person
	// History is the conversation's last messages, oldest first, when the
	// drafter could read them (from Chatwoot's API when live).
	History []Turn
}

// Person is who a variable names.
type Person struct {
	Name  string
	Email string
}

// Turn is one message of the conversation's history.
type Turn struct {
	// Role is "customer" or "agent".
	Role string
	Text string
}

// Suggestion is a draft, or the provider's abstention (Text empty).
type Suggestion struct {
	Text string
	// Source is the short code of the canned response the draft is, or
	// is grounded on most; empty when none.
	Source string
	// Score is the provider's confidence in [0, 1].
	Score float64
	// Provider names who made it ("retrieval", "bedrock", "openai").
	Provider string
	// Tokens a model read and wrote, for the metrics; 0 for retrieval.
	InputTokens, OutputTokens int
	// FellBack names the model provider that failed when this suggestion
	// is its fallback's (retrieval's); empty otherwise.
	FellBack string
}

// Abstained reports whether the provider had nothing good enough.
func (s Suggestion) Abstained() bool { return s.Text == "" }

// Provider makes suggestions. An error means the provider failed (a
// timeout, an unreachable model); abstaining is not an error.
type Provider interface {
	Draft(ctx context.Context, r Request) (Suggestion, error)
}

// Canned is a canned response: Chatwoot's (short_code, content), or an
// entry of a knowledge file, which may add example questions it answers.
type Canned struct {
	ShortCode string   `json:"short_code" yaml:"short_code"`
	Content   string   `json:"content" yaml:"content"`
	Examples  []string `json:"examples,omitempty" yaml:"examples,omitempty"`
}

// CannedSource lists an account's canned responses: Chatwoot's REST API
// (rest.Client) when live.
type CannedSource interface {
	CannedResponses(ctx context.Context, account int64) ([]Canned, error)
}
