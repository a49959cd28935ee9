package chatwoot

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Head is what the edge needs to know about a payload: that the processor
// will decode it, and the ids it names.
type Head struct {
	Event string
	Kind  Kind
	// ID is the message, conversation (display) or contact id.
	ID int64
	// AccountID is the account the payload names, or 0. Conversation
	// payloads carry their own since Chatwoot 4.14.2; before that, the
	// first nested message's account_id stands in (chatwoot#11753).
	AccountID int64
	// ConversationID is the conversation's display id, 0 for contacts.
	ConversationID int64
}

// Check tells whether Decode accepts body, and reads its Head, without
// decoding it: after the structural scan, one pass over the bytes applies
// the typed decoder's rules (the schema comes from the Go types by
// reflection, so it cannot drift from them). Building the typed payload,
// with its maps, strings and slices, was most of the edge's CPU per
// webhook; the processor still builds it, from a body Check has passed.
func Check(body []byte) (Head, error) {
	name, err := eventOf(body)
	if err != nil {
		return Head{}, err
	}
	h := Head{Event: name, Kind: KindOf(name)}
	root, ok := roots[h.Kind]
	if !ok {
		if !json.Valid(body) {
			return Head{}, ErrNotJSON
		}
		return h, nil
	}
	c := checker{data: body, captures: captures[h.Kind]}
	ok = c.value(root)
	c.ws()
	if !ok || c.i != len(c.data) {
		return Head{}, ErrNotJSON
	}
	if c.dup != nil {
		return Head{}, c.dup
	}
	if err := c.err(); err != nil {
		return Head{}, fmt.Errorf("%w: %s", ErrBadPayload, describe(err))
	}
	h.ID, h.AccountID, h.ConversationID = c.ids[slotID], c.ids[slotAccount], c.ids[slotConversation]
	if h.Kind == KindConversation {
		h.ConversationID = h.ID
	}
	if err := h.validate(); err != nil {
		return Head{}, fmt.Errorf("%w: %s", ErrBadPayload, err)
	}
	return h, nil
}

// eventOf checks what every body must pass whatever its event (a UTF-8
// JSON object, no duplicate keys, no extreme nesting) and returns the event
// name.
func eventOf(body []byte) (string, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || trimmed[0] != '{' || !utf8.Valid(body) {
		return "", ErrNotJSON
	}
	raw, err := scan(body)
	if err != nil {
		return "", err
	}
	name, ok := unquote(raw)
	if !ok || name == "" || len(name) > 64 {
		if !json.Valid(body) {
			return "", ErrNotJSON
		}
		return "", ErrNoEvent
	}
	return name, nil
}

func (h *Head) validate() error {
	switch h.Kind {
	case KindMessage:
		if h.ID <= 0 {
			return fmt.Errorf("message id missing")
		}
		if h.ConversationID <= 0 {
			return fmt.Errorf("message without conversation id")
		}
	case KindConversation:
		if h.ID <= 0 {
			return fmt.Errorf("conversation id missing")
		}
	case KindContact:
		if h.ID <= 0 {
			return fmt.Errorf("contact id missing")
		}
	}
	return nil
}
