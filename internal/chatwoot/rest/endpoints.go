package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/drafting"
)

// The calls of Client over HTTP, one per Chatwoot endpoint the pipeline uses;
// http.go holds the transport they share (retries, rate limit, errors).

func conversationPath(account, conv int64, suffix string) (string, error) {
	if err := checkIDs(account, conv); err != nil {
		return "", err
	}
	return fmt.Sprintf("/api/v1/accounts/%d/conversations/%d%s", account, conv, suffix), nil
}

type labelsBody struct {
	Labels []string `json:"labels"`
}

type labelsResponse struct {
	Payload []string `json:"payload"`
}

// Labels implements Client.
func (c *HTTPClient) Labels(ctx context.Context, account, conv int64) ([]string, error) {
	path, err := conversationPath(account, conv, "/labels")
	if err != nil {
		return nil, err
	}
	var resp labelsResponse
	if err := c.do(ctx, request{method: http.MethodGet, path: path, out: &resp}); err != nil {
		return nil, err
	}
	return resp.Payload, nil
}

// AddLabels implements Client. Between the read and the write another client
// may change the labels; Chatwoot offers no conditional write to prevent it.
func (c *HTTPClient) AddLabels(ctx context.Context, account, conv int64, add []string) ([]string, error) {
	path, err := conversationPath(account, conv, "/labels")
	if err != nil {
		return nil, err
	}
	if err := checkLabels(add); err != nil {
		return nil, err
	}
	// Chatwoot's POST replaces the whole set, so two writers merging at once
	// can drop each other's labels. Within the process the lock prevents it;
	// two processes updating one conversation's labels in the same instant
	// remain a race the API gives no way to close.
	mu := &c.labelLocks[uint64(account*31+conv)%uint64(len(c.labelLocks))]
	mu.Lock()
	defer mu.Unlock()
	cur, err := c.Labels(ctx, account, conv)
	if err != nil {
		return nil, err
	}
	next, changed := union(cur, add)
	if !changed {
		return cur, nil
	}
	var resp labelsResponse
	if err := c.do(ctx, request{method: http.MethodPost, path: path, body: labelsBody{next}, out: &resp}); err != nil {
		return nil, err
	}
	return resp.Payload, nil
}

// SetPriority implements Client.
func (c *HTTPClient) SetPriority(ctx context.Context, account, conv int64, priority string) error {
	path, err := conversationPath(account, conv, "/toggle_priority")
	if err != nil {
		return err
	}
	if err := checkPriority(priority); err != nil {
		return err
	}
	return c.do(ctx, request{method: http.MethodPost, path: path, body: map[string]string{"priority": priority}})
}

type noteBody struct {
	Content           string          `json:"content"`
	MessageType       string          `json:"message_type"`
	Private           bool            `json:"private"`
	ContentAttributes map[string]bool `json:"content_attributes"`
}

// PrivateNote implements Client. A timeout or a 5xx after the request was
// sent may hide a note Chatwoot created, and a second one would be visible
// to agents: so after such a failure the client looks among the
// conversation's latest messages for the note (ours, same content) and
// posts it again, within its attempts, only if it is not there. A note
// posted again under store.Once (store.Resumed: an earlier attempt may have
// created it) is looked for before the first post.
func (c *HTTPClient) PrivateNote(ctx context.Context, account, conv int64, content string) error {
	path, err := conversationPath(account, conv, "/messages")
	if err != nil {
		return err
	}
	content, err = noteContent(content)
	if err != nil {
		return err
	}
	posted := func(ctx context.Context) (bool, error) { return c.hasNote(ctx, path, content) }
	if store.Resumed(ctx) {
		found, err := posted(ctx)
		if err != nil {
			return fmt.Errorf("chatwoot api: POST %s: not sent: whether an earlier attempt posted it is unknown: %w", path, err)
		}
		if found {
			return nil
		}
	}
	body := noteBody{Content: content, MessageType: "outgoing", Private: true, ContentAttributes: map[string]bool{MarkerKey: true}}
	return c.do(ctx, request{method: http.MethodPost, path: path, body: body, verify: posted})
}

// hasNote reports whether the latest page of the conversation's messages
// holds our note with content. One page is enough: a note whose post just
// failed is among the conversation's last messages.
func (c *HTTPClient) hasNote(ctx context.Context, path, content string) (bool, error) {
	var resp struct {
		Payload []Message `json:"payload"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: path, out: &resp}); err != nil {
		return false, err
	}
	return HasNote(resp.Payload, content), nil
}

// AssignTeam implements Client.
func (c *HTTPClient) AssignTeam(ctx context.Context, account, conv int64, teamID int64) error {
	path, err := conversationPath(account, conv, "/assignments")
	if err != nil {
		return err
	}
	if err := checkTeam(teamID); err != nil {
		return err
	}
	var answer []byte
	if err := c.do(ctx, request{method: http.MethodPost, path: path, body: map[string]int64{"team_id": teamID}, raw: &answer}); err != nil {
		return err
	}
	// Chatwoot renders the team it found, or null when the account has no
	// such team, after setting the conversation's team to it: a 200 that
	// removed the team. The answer itself is never quoted.
	answer = bytes.TrimSpace(answer)
	if len(answer) == 0 || answer[0] != '{' || !json.Valid(answer) {
		return fmt.Errorf("chatwoot api: assign team %d to conversation %d of account %d: Chatwoot answered %s, not the team "+
			"(it answers null to a team the account lacks, and removes the conversation's team)", teamID, conv, account, answerKind(answer))
	}
	return nil
}

// answerKind names what a 2xx body was, without its content.
func answerKind(b []byte) string {
	switch {
	case len(b) == 0:
		return "an empty body"
	case string(b) == "null":
		return "null"
	}
	return "no team object"
}

// Teams implements Client. Chatwoot lists every team of the account in one
// unpaginated array.
func (c *HTTPClient) Teams(ctx context.Context, account int64) ([]Team, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	var teams []Team
	err := c.do(ctx, request{method: http.MethodGet, path: fmt.Sprintf("/api/v1/accounts/%d/teams", account), out: &teams})
	return teams, err
}

// Profile implements Client.
func (c *HTTPClient) Profile(ctx context.Context) (Profile, error) {
	var p Profile
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/profile", out: &p})
	return p, err
}

// Conversations implements Client. With updated_within Chatwoot returns one
// unpaginated list; within is rounded up to whole seconds.
func (c *HTTPClient) Conversations(ctx context.Context, account int64, within time.Duration) ([]Conversation, error) {
	if err := checkWindow(account, within); err != nil {
		return nil, err
	}
	secs := int64(math.Ceil(within.Seconds()))
	q := url.Values{"status": {"all"}, "updated_within": {strconv.FormatInt(secs, 10)}}
	var resp struct {
		Data struct {
			Payload []Conversation `json:"payload"`
		} `json:"data"`
	}
	path := fmt.Sprintf("/api/v1/accounts/%d/conversations", account)
	if err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, out: &resp}); err != nil {
		return nil, err
	}
	return resp.Data.Payload, nil
}

// RecentMessages implements Client: the messages endpoint without
// "before" answers the latest page.
func (c *HTTPClient) RecentMessages(ctx context.Context, account, conv int64) ([]Message, error) {
	path, err := conversationPath(account, conv, "/messages")
	if err != nil {
		return nil, err
	}
	var resp struct {
		Payload []Message `json:"payload"`
	}
	if err := c.do(ctx, request{method: http.MethodGet, path: path, out: &resp}); err != nil {
		return nil, err
	}
	return resp.Payload, nil
}

// Messages implements Client. Chatwoot returns the latest page of messages;
// older pages are fetched with before=<oldest id> until a short page, so the
// first customer message is included however long the conversation.
func (c *HTTPClient) Messages(ctx context.Context, account, conv int64) ([]Message, error) {
	path, err := conversationPath(account, conv, "/messages")
	if err != nil {
		return nil, err
	}
	var all []Message
	var q url.Values
	for range maxMessagePages {
		var resp struct {
			Payload []Message `json:"payload"`
		}
		if err := c.do(ctx, request{method: http.MethodGet, path: path, query: q, out: &resp}); err != nil {
			return nil, err
		}
		page := resp.Payload
		if q != nil {
			// Keep only what is older than the cursor, so a server that
			// ignores it cannot make us loop or duplicate.
			before, _ := strconv.ParseInt(q.Get("before"), 10, 64)
			page = olderThan(page, before)
		}
		all = append(page, all...)
		if len(resp.Payload) < messagesPage || len(page) == 0 {
			return all, nil
		}
		q = url.Values{"before": {strconv.FormatInt(minID(page), 10)}}
	}
	return nil, fmt.Errorf("chatwoot api: GET %s: more than %d messages", path, maxMessagePages*messagesPage)
}

func olderThan(ms []Message, id int64) []Message {
	var out []Message
	for _, m := range ms {
		if m.ID < id {
			out = append(out, m)
		}
	}
	return out
}

func minID(ms []Message) int64 {
	id := ms[0].ID
	for _, m := range ms[1:] {
		id = min(id, m.ID)
	}
	return id
}

// CannedResponses implements Client. Chatwoot lists every canned response
// of the account in one unpaginated array.
func (c *HTTPClient) CannedResponses(ctx context.Context, account int64) ([]drafting.Canned, error) {
	if err := checkAccount(account); err != nil {
		return nil, err
	}
	var list []drafting.Canned
	path := fmt.Sprintf("/api/v1/accounts/%d/canned_responses", account)
	if err := c.do(ctx, request{method: http.MethodGet, path: path, out: &list}); err != nil {
		return nil, err
	}
	return list, nil
}
