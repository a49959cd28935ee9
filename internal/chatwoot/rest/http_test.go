package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/support/drafting"
)

const conversationsJSON = `{"data":{"meta":{"mine_count":0,"assigned_count":1,"unassigned_count":0,"all_count":1},
"payload":[{"meta":{"sender":{"id":9,"name":"Jane","type":"contact"},"channel":"Channel::WebWidget",
"assignee":{"id":3,"name":"Agent","type":"user"},"team":{"id":2,"name":"Billing"},"hmac_verified":false},
"id":1423,"messages":[{"id":501,"content":"hello","account_id":7,"inbox_id":4,"conversation_id":1423,
"message_type":0,"created_at":1778583824,"updated_at":"2026-05-12T11:03:44.512Z","private":false,
"status":"sent","sender_type":"Contact","sender_id":9}],
"account_id":7,"uuid":"5c0ffee0","inbox_id":4,"labels":["billing"],"muted":false,"snoozed_until":null,
"status":"open","priority":"high","created_at":1778583800,"updated_at":1778583824.388512,
"timestamp":1778583824,"first_reply_created_at":0,"unread_count":1,"waiting_since":1778583824,
"last_activity_at":1778583824,"sla_policy_id":null,"custom_attributes":{},"additional_attributes":{}}]}}`

// teamJSON is a team as Chatwoot renders it (api/v1/models/_team).
const teamJSON = `{"id":3,"name":"Billing","description":"Refunds and invoices","allow_auto_assign":true,"account_id":7,"is_member":false}`

const profileJSON = `{"id":31,"name":"Support Admin","email":"admin@example.com","access_token":"` + testToken + `",
"accounts":[{"id":7,"name":"Acme","role":"administrator","status":"active"}],"type":"user"}`

// messagesPageJSON returns a messages response holding ids from..to, oldest first.
func messagesPageJSON(from, to int64) string {
	var ms []string
	for id := from; id <= to; id++ {
		ms = append(ms, fmt.Sprintf(`{"id":%d,"content":"m","inbox_id":4,"conversation_id":1423,"message_type":%d,`+
			`"content_type":"text","content_attributes":{},"created_at":%d,"private":false,"source_id":null}`,
			id, id%2, 1778583800+id))
	}
	return `{"meta":{"labels":[],"contact_id":9},"payload":[` + strings.Join(ms, ",") + `]}`
}

func ids(ms []Message) []int64 {
	var out []int64
	for _, m := range ms {
		out = append(out, m.ID)
	}
	return out
}

func span(from, to int64) []int64 {
	var out []int64
	for id := from; id <= to; id++ {
		out = append(out, id)
	}
	return out
}

func TestRequests(t *testing.T) {
	ok := reply{status: http.StatusOK}
	tests := []struct {
		name  string
		serve func(int, *http.Request) reply
		call  func(context.Context, *HTTPClient) (any, error)
		want  []seen // method, uri, body (JSON) only
		check func(t *testing.T, got any)
	}{
		{
			name:  "labels",
			serve: inOrder(reply{status: 200, body: `{"payload":["billing","vip"]}`}),
			call:  func(ctx context.Context, c *HTTPClient) (any, error) { return c.Labels(ctx, 7, 1423) },
			want:  []seen{{method: "GET", uri: "/api/v1/accounts/7/conversations/1423/labels"}},
			check: func(t *testing.T, got any) { assert.Equal(t, []string{"billing", "vip"}, got) },
		},
		{
			name: "add labels merges with the current set",
			serve: inOrder(reply{status: 200, body: `{"payload":["billing"]}`},
				reply{status: 200, body: `{"payload":["billing","escalated"]}`}),
			call: func(ctx context.Context, c *HTTPClient) (any, error) {
				return c.AddLabels(ctx, 7, 1423, []string{"escalated"})
			},
			want: []seen{
				{method: "GET", uri: "/api/v1/accounts/7/conversations/1423/labels"},
				{method: "POST", uri: "/api/v1/accounts/7/conversations/1423/labels", body: `{"labels":["billing","escalated"]}`},
			},
			check: func(t *testing.T, got any) { assert.Equal(t, []string{"billing", "escalated"}, got) },
		},
		{
			name:  "add labels writes nothing when nothing is new",
			serve: inOrder(reply{status: 200, body: `{"payload":["billing","escalated"]}`}),
			call: func(ctx context.Context, c *HTTPClient) (any, error) {
				return c.AddLabels(ctx, 7, 1423, []string{"escalated", "billing", "escalated"})
			},
			want:  []seen{{method: "GET", uri: "/api/v1/accounts/7/conversations/1423/labels"}},
			check: func(t *testing.T, got any) { assert.Equal(t, []string{"billing", "escalated"}, got) },
		},
		{
			name: "add labels to an unlabelled conversation",
			serve: inOrder(reply{status: 200, body: `{"payload":[]}`},
				reply{status: 200, body: `{"payload":["urgent","vip"]}`}),
			call: func(ctx context.Context, c *HTTPClient) (any, error) {
				return c.AddLabels(ctx, 7, 1423, []string{"urgent", "vip", "urgent"})
			},
			want: []seen{
				{method: "GET", uri: "/api/v1/accounts/7/conversations/1423/labels"},
				{method: "POST", uri: "/api/v1/accounts/7/conversations/1423/labels", body: `{"labels":["urgent","vip"]}`},
			},
			check: func(t *testing.T, got any) { assert.Equal(t, []string{"urgent", "vip"}, got) },
		},
		{
			name:  "priority",
			serve: inOrder(ok),
			call: func(ctx context.Context, c *HTTPClient) (any, error) {
				return nil, c.SetPriority(ctx, 7, 1423, "urgent")
			},
			want: []seen{{method: "POST", uri: "/api/v1/accounts/7/conversations/1423/toggle_priority", body: `{"priority":"urgent"}`}},
		},
		{
			name:  "private note is prefixed and marked",
			serve: inOrder(reply{status: 200, body: `{"id":9001,"private":true}`}),
			call: func(ctx context.Context, c *HTTPClient) (any, error) {
				return nil, c.PrivateNote(ctx, 7, 1423, "SLA risk: FRT at 80%")
			},
			want: []seen{{method: "POST", uri: "/api/v1/accounts/7/conversations/1423/messages",
				body: `{"content":"[supportpipe] SLA risk: FRT at 80%","message_type":"outgoing","private":true,"content_attributes":{"supportpipe":true}}`}},
		},
		{
			name:  "private note keeps an existing prefix",
			serve: inOrder(reply{status: 200, body: `{"id":9002}`}),
			call: func(ctx context.Context, c *HTTPClient) (any, error) {
				return nil, c.PrivateNote(ctx, 7, 1423, NotePrefix+" escalated")
			},
			want: []seen{{method: "POST", uri: "/api/v1/accounts/7/conversations/1423/messages",
				body: `{"content":"[supportpipe] escalated","message_type":"outgoing","private":true,"content_attributes":{"supportpipe":true}}`}},
		},
		{
			name:  "team assignment",
			serve: inOrder(reply{status: 200, body: teamJSON}),
			call: func(ctx context.Context, c *HTTPClient) (any, error) {
				return nil, c.AssignTeam(ctx, 7, 1423, 3)
			},
			want: []seen{{method: "POST", uri: "/api/v1/accounts/7/conversations/1423/assignments", body: `{"team_id":3}`}},
		},
		{
			name: "teams",
			serve: inOrder(reply{status: 200, body: `[` + teamJSON + `,{"id":5,"name":"Returns","description":null,` +
				`"allow_auto_assign":false,"account_id":7,"is_member":true}]`}),
			call: func(ctx context.Context, c *HTTPClient) (any, error) { return c.Teams(ctx, 7) },
			want: []seen{{method: "GET", uri: "/api/v1/accounts/7/teams"}},
			check: func(t *testing.T, got any) {
				assert.Equal(t, []Team{{ID: 3, Name: "Billing"}, {ID: 5, Name: "Returns"}}, got)
			},
		},
		{
			name: "canned responses",
			serve: inOrder(reply{status: 200, body: `[{"id":1,"account_id":7,"short_code":"refund_status",` +
				`"content":"Hi {{contact.name}}, your refund is on its way.","created_at":"2026-05-01T09:00:00.000Z",` +
				`"updated_at":"2026-05-02T09:00:00.000Z"},{"id":2,"account_id":7,"short_code":"hours",` +
				`"content":"We answer 9 to 5.","created_at":"2026-05-01T09:00:00.000Z","updated_at":"2026-05-01T09:00:00.000Z"}]`}),
			call: func(ctx context.Context, c *HTTPClient) (any, error) { return c.CannedResponses(ctx, 7) },
			want: []seen{{method: "GET", uri: "/api/v1/accounts/7/canned_responses"}},
			check: func(t *testing.T, got any) {
				assert.Equal(t, []drafting.Canned{
					{ShortCode: "refund_status", Content: "Hi {{contact.name}}, your refund is on its way."},
					{ShortCode: "hours", Content: "We answer 9 to 5."},
				}, got)
			},
		},
		{
			name:  "no canned responses",
			serve: inOrder(reply{status: 200, body: `[]`}),
			call:  func(ctx context.Context, c *HTTPClient) (any, error) { return c.CannedResponses(ctx, 7) },
			want:  []seen{{method: "GET", uri: "/api/v1/accounts/7/canned_responses"}},
			check: func(t *testing.T, got any) { assert.Empty(t, got) },
		},
		{
			name:  "profile drops the token and email",
			serve: inOrder(reply{status: 200, body: profileJSON}),
			call:  func(ctx context.Context, c *HTTPClient) (any, error) { return c.Profile(ctx) },
			want:  []seen{{method: "GET", uri: "/api/v1/profile"}},
			check: func(t *testing.T, got any) {
				assert.Equal(t, Profile{ID: 31, Name: "Support Admin",
					Accounts: []ProfileAccount{{ID: 7, Name: "Acme", Role: "administrator"}}}, got)
				b, err := json.Marshal(got)
				require.NoError(t, err)
				assert.NotContains(t, string(b), testToken)
				assert.NotContains(t, fmt.Sprintf("%+v", got), "admin@example.com")
			},
		},
		{
			name:  "conversations updated within a window",
			serve: inOrder(reply{status: 200, body: conversationsJSON}),
			call: func(ctx context.Context, c *HTTPClient) (any, error) {
				return c.Conversations(ctx, 7, 10*time.Minute)
			},
			want: []seen{{method: "GET", uri: "/api/v1/accounts/7/conversations?status=all&updated_within=600"}},
			check: func(t *testing.T, got any) {
				cs := got.([]Conversation)
				require.Len(t, cs, 1)
				c := cs[0]
				assert.Equal(t, int64(1423), c.ID)
				assert.Equal(t, int64(7), c.AccountID)
				assert.Equal(t, []string{"billing"}, c.Labels)
				require.NotNil(t, c.Priority)
				assert.Equal(t, "high", *c.Priority)
				assert.Equal(t, int64(2), c.Meta.Team.ID)
				assert.True(t, c.FirstReplyCreatedAt.IsZero(), "integer 0 means no reply")
				assert.Equal(t, time.Unix(1778583824, 388512000).UTC(), c.UpdatedAt.Time)
				require.Len(t, c.Messages, 1)
				assert.Equal(t, chatwoot.Incoming, c.Messages[0].MessageType)
				assert.Equal(t, "contact", c.Messages[0].SenderKind())
			},
		},
		{
			name:  "conversation window rounds up to whole seconds",
			serve: inOrder(reply{status: 200, body: `{"data":{"meta":{},"payload":[]}}`}),
			call: func(ctx context.Context, c *HTTPClient) (any, error) {
				return c.Conversations(ctx, 7, 90*time.Second+time.Millisecond)
			},
			want:  []seen{{method: "GET", uri: "/api/v1/accounts/7/conversations?status=all&updated_within=91"}},
			check: func(t *testing.T, got any) { assert.Empty(t, got) },
		},
		{
			name:  "messages in one page",
			serve: inOrder(reply{status: 200, body: messagesPageJSON(1, 3)}),
			call:  func(ctx context.Context, c *HTTPClient) (any, error) { return c.Messages(ctx, 7, 1423) },
			want:  []seen{{method: "GET", uri: "/api/v1/accounts/7/conversations/1423/messages"}},
			check: func(t *testing.T, got any) {
				ms := got.([]Message)
				assert.Equal(t, []int64{1, 2, 3}, ids(ms))
				assert.Equal(t, chatwoot.Outgoing, ms[0].MessageType)
				assert.Equal(t, time.Unix(1778583801, 0).UTC(), ms[0].CreatedAt.Time)
			},
		},
		{
			name: "messages page back to the first one",
			serve: func(_ int, r *http.Request) reply {
				switch r.URL.Query().Get("before") {
				case "":
					return reply{status: 200, body: messagesPageJSON(21, 40)}
				case "21":
					return reply{status: 200, body: messagesPageJSON(1, 20)}
				}
				return reply{status: 200, body: `{"meta":{},"payload":[]}`}
			},
			call: func(ctx context.Context, c *HTTPClient) (any, error) { return c.Messages(ctx, 7, 1423) },
			want: []seen{
				{method: "GET", uri: "/api/v1/accounts/7/conversations/1423/messages"},
				{method: "GET", uri: "/api/v1/accounts/7/conversations/1423/messages?before=21"},
				{method: "GET", uri: "/api/v1/accounts/7/conversations/1423/messages?before=1"},
			},
			check: func(t *testing.T, got any) { assert.Equal(t, span(1, 40), ids(got.([]Message))) },
		},
		{
			name:  "messages stop when the server ignores the cursor",
			serve: inOrder(reply{status: 200, body: messagesPageJSON(21, 40)}),
			call:  func(ctx context.Context, c *HTTPClient) (any, error) { return c.Messages(ctx, 7, 1423) },
			want: []seen{
				{method: "GET", uri: "/api/v1/accounts/7/conversations/1423/messages"},
				{method: "GET", uri: "/api/v1/accounts/7/conversations/1423/messages?before=21"},
			},
			check: func(t *testing.T, got any) { assert.Equal(t, span(21, 40), ids(got.([]Message))) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t, tt.serve)
			clk := newClock()
			got, err := tt.call(t.Context(), newTestClient(t, srv.URL, clk, Options{}))
			require.NoError(t, err)
			reqs := f.requests()
			require.Len(t, reqs, len(tt.want))
			for i, w := range tt.want {
				r := reqs[i]
				assert.Equal(t, w.method, r.method, "request %d", i)
				assert.Equal(t, w.uri, r.uri, "request %d", i)
				assert.Equal(t, testToken, r.token, "request %d", i)
				assert.Equal(t, "supportpipe", r.agent, "request %d", i)
				assert.Equal(t, "application/json", r.accept, "request %d", i)
				if w.body == "" {
					assert.Empty(t, r.body, "request %d", i)
					assert.Empty(t, r.contentType, "request %d", i)
				} else {
					assert.JSONEq(t, w.body, r.body, "request %d", i)
					assert.Equal(t, "application/json", r.contentType, "request %d", i)
				}
			}
			assert.Empty(t, clk.slept(), "no waits without failures")
			if tt.check != nil {
				tt.check(t, got)
			}
		})
	}
}

// roundTripFunc lets a test see or fail requests before they leave.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestMessagesPagingIsBounded(t *testing.T) {
	// Every page is full and older than the last: a history too long to fetch.
	f, srv := newFake(t, func(n int, _ *http.Request) reply {
		top := int64(100000 - n*messagesPage)
		return reply{status: 200, body: messagesPageJSON(top-messagesPage+1, top)}
	})
	_, err := newTestClient(t, srv.URL, newClock(), Options{}).Messages(t.Context(), 7, 1423)
	assert.ErrorContains(t, err, "more than 1000 messages")
	assert.Len(t, f.requests(), maxMessagePages)
}

func TestTokenHeaderNameIsVerbatim(t *testing.T) {
	_, srv := newFake(t, inOrder(reply{status: 200, body: `{}`}))
	var keys []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		for k := range r.Header {
			keys = append(keys, k)
		}
		return http.DefaultTransport.RoundTrip(r)
	})
	c := newTestClient(t, srv.URL, newClock(), Options{Transport: rt})
	_, err := c.Profile(t.Context())
	require.NoError(t, err)
	// net/http writes header keys as given; Header.Set would have sent
	// Api_access_token.
	assert.Contains(t, keys, "api_access_token")
}

func TestInvalidArgumentsSendNothing(t *testing.T) {
	tests := []struct {
		name string
		call func(context.Context, Client) error
	}{
		{"priority none", func(ctx context.Context, c Client) error { return c.SetPriority(ctx, 7, 1, "none") }},
		{"priority empty", func(ctx context.Context, c Client) error { return c.SetPriority(ctx, 7, 1, "") }},
		{"priority case", func(ctx context.Context, c Client) error { return c.SetPriority(ctx, 7, 1, "Urgent") }},
		{"empty note", func(ctx context.Context, c Client) error { return c.PrivateNote(ctx, 7, 1, "  ") }},
		{"prefix-only note", func(ctx context.Context, c Client) error { return c.PrivateNote(ctx, 7, 1, NotePrefix+" ") }},
		{"team zero", func(ctx context.Context, c Client) error { return c.AssignTeam(ctx, 7, 1, 0) }},
		{"teams of account zero", func(ctx context.Context, c Client) error {
			_, err := c.Teams(ctx, 0)
			return err
		}},
		{"canned responses of account zero", func(ctx context.Context, c Client) error {
			_, err := c.CannedResponses(ctx, 0)
			return err
		}},
		{"empty label", func(ctx context.Context, c Client) error {
			_, err := c.AddLabels(ctx, 7, 1, []string{"vip", ""})
			return err
		}},
		{"account zero", func(ctx context.Context, c Client) error {
			_, err := c.Labels(ctx, 0, 1)
			return err
		}},
		{"conversation zero", func(ctx context.Context, c Client) error { return c.SetPriority(ctx, 7, 0, "low") }},
		{"messages of conversation zero", func(ctx context.Context, c Client) error {
			_, err := c.Messages(ctx, 7, 0)
			return err
		}},
		{"no window", func(ctx context.Context, c Client) error {
			_, err := c.Conversations(ctx, 7, 0)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t, inOrder(reply{status: 200, body: `{"payload":[]}`}))
			rec := NewOffline(nil)
			for _, c := range []Client{newTestClient(t, srv.URL, newClock(), Options{}), rec} {
				assert.Error(t, tt.call(t.Context(), c), "%T", c)
			}
			assert.Empty(t, f.requests())
			assert.Empty(t, rec.Calls())
		})
	}
}

// TestAssignTeamNotFound: for a team id the account lacks, Chatwoot
// removes the conversation's team and answers 200 null
// (Conversations::AssignmentsController#set_team). That is no success, and
// nothing worth repeating.
func TestAssignTeamNotFound(t *testing.T) {
	for _, body := range []string{"null", "", " null\n", "[]", `"Billing"`, `{"id":3`} {
		t.Run(body, func(t *testing.T) {
			f, srv := newFake(t, inOrder(reply{status: 200, body: body}))
			err := newTestClient(t, srv.URL, newClock(), Options{}).AssignTeam(t.Context(), 7, 1423, 3)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "team 3")
			assert.Contains(t, err.Error(), "conversation 1423")
			if b := strings.TrimSpace(body); b != "" && b != "null" {
				assert.NotContains(t, err.Error(), b, "the answer is not quoted")
			}
			var apiErr *Error
			assert.False(t, errors.As(err, &apiErr), "not an HTTP error")
			assert.Len(t, f.requests(), 1, "not retried")
		})
	}
}

func TestNewHTTPClient(t *testing.T) {
	tests := []struct {
		name, base, token string
		wantErr           bool
	}{
		{"https", "https://chat.example.com", "t", false},
		{"trailing slash and prefix", "https://example.com/chatwoot/", "t", false},
		{"no scheme", "chat.example.com", "t", true},
		{"ftp", "ftp://chat.example.com", "t", true},
		{"credentials", "https://u:p@chat.example.com", "t", true},
		{"query", "https://chat.example.com/?x=1", "t", true},
		{"no token", "https://chat.example.com", " ", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewHTTPClient(tt.base, tt.token, Options{})
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			assert.NoError(t, err)
		})
	}
}

func TestBasePathPrefix(t *testing.T) {
	f, srv := newFake(t, inOrder(reply{status: 200, body: `{"payload":[]}`}))
	c := newTestClient(t, srv.URL+"/chatwoot/", newClock(), Options{})
	_, err := c.Labels(t.Context(), 7, 1)
	require.NoError(t, err)
	assert.Equal(t, "/chatwoot/api/v1/accounts/7/conversations/1/labels", f.requests()[0].uri)
}

func TestIsOwnNote(t *testing.T) {
	tests := []struct {
		name string
		m    Message
		want bool
	}{
		{"prefixed note", Message{Private: true, Content: NotePrefix + " SLA risk"}, true},
		{"marked note", Message{Private: true, Content: "edited", ContentAttributes: json.RawMessage(`{"supportpipe":true}`)}, true},
		{"agent note", Message{Private: true, Content: "call the customer", ContentAttributes: json.RawMessage(`{}`)}, false},
		{"marker false", Message{Private: true, Content: "x", ContentAttributes: json.RawMessage(`{"supportpipe":false}`)}, false},
		{"public message with the prefix", Message{Content: NotePrefix + " hi"}, false},
		{"no attributes", Message{Private: true, Content: "x"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, IsOwnNote(&tt.m))
		})
	}
}
