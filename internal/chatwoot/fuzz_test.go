package chatwoot

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzVerify: any header values and body give one of the documented errors
// or nil, never a panic; nil only for a signature made with our secret.
func FuzzVerify(f *testing.F) {
	f.Add(vecTS, vecSig, []byte(vecBody))
	f.Add("", "", []byte{})
	f.Add("1778577268", "sha256=", []byte("{}"))
	f.Add("99999999999999999999", "sha256="+vecSig[7:], []byte(vecBody))
	f.Add("1778577268", vecSig+","+vecSig, []byte(vecBody))
	v := NewVerifier([]string{vecSecret}, DefaultTolerance)
	now := time.Unix(1778577268, 0)
	known := []error{ErrMissingSignature, ErrMalformedSignature, ErrMalformedTimestamp, ErrStaleTimestamp, ErrSignatureMismatch}
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		err := v.Verify(ts, sig, body, now)
		if err == nil {
			// Hex is case-insensitive and surrounding space is trimmed: the
			// same MAC written another way is still ours.
			if !strings.EqualFold(strings.TrimSpace(sig), Sign([]byte(vecSecret), ts, body)) {
				t.Fatalf("accepted a signature we did not make: ts=%q sig=%q", ts, sig)
			}
			return
		}
		for _, k := range known {
			if errors.Is(err, k) {
				return
			}
		}
		t.Fatalf("undocumented error %v", err)
	})
}

// FuzzDecode: any body decodes or fails with a documented error; a decoded
// payload of a known kind has the fields the pipeline relies on.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "chatwoot", "*.json"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"event":"message_created","id":1,"conversation":{"id":2}}`))
	f.Add([]byte(`{"event":"conversation_updated","id":1,"updated_at":1.5,"messages":[{"id":3,"message_type":0,"created_at":7}]}`))
	known := []error{ErrNotJSON, ErrNoEvent, ErrBadPayload, ErrDuplicateKey, ErrTooDeep}
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := Decode(body)
		if err != nil {
			for _, k := range known {
				if errors.Is(err, k) {
					return
				}
			}
			t.Fatalf("undocumented error %v", err)
		}
		switch p.Kind {
		case KindMessage:
			if p.Message == nil || p.Message.Conversation == nil || p.Message.ID <= 0 {
				t.Fatal("message payload without its ids")
			}
		case KindConversation:
			if p.Conversation == nil || p.Conversation.ID <= 0 {
				t.Fatal("conversation payload without its id")
			}
		case KindContact:
			if p.Contact == nil || p.Contact.ID <= 0 {
				t.Fatal("contact payload without its id")
			}
		}
		_ = p.ContentKey(p.AccountID, body)
	})
}
