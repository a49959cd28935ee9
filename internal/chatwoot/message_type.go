package chatwoot

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MessageType is a message's direction. The top-level message payload sends it
// as a string, nested conversation.messages[] as Rails' enum integer.
type MessageType string

// Message types as Chatwoot names them.
const (
	Incoming MessageType = "incoming"
	Outgoing MessageType = "outgoing"
	Activity MessageType = "activity"
	Template MessageType = "template"
)

var messageTypeByInt = [...]MessageType{Incoming, Outgoing, Activity, Template}

// UnmarshalJSON implements json.Unmarshaler.
func (m *MessageType) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		*m = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		s, ok := unquote(b)
		if !ok {
			return fmt.Errorf("chatwoot: message_type is not a JSON string")
		}
		switch MessageType(s) {
		case Incoming, Outgoing, Activity, Template:
			*m = MessageType(s)
			return nil
		}
		return fmt.Errorf("chatwoot: unknown message_type %q", truncate(s, 20))
	}
	n, ok := parseInt(b)
	if !ok {
		// Not an integer: encoding/json words the error.
		var i int
		err := json.Unmarshal(b, &i)
		if err == nil {
			err = fmt.Errorf("not an integer")
		}
		return fmt.Errorf("chatwoot: message_type: %w", err)
	}
	if n < 0 || n >= int64(len(messageTypeByInt)) {
		return fmt.Errorf("chatwoot: unknown message_type %d", n)
	}
	*m = messageTypeByInt[n]
	return nil
}
