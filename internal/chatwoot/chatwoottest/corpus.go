// Package chatwoottest loads the corpus of Chatwoot webhook bodies in
// testdata/chatwoot/corpus, for tests only: the bodies are built as
// Chatwoot's serializers build them (see internal/chatwoot/corpus_test.go,
// which writes them with -update), large ones are stored gzipped, and
// manifest.json says what each one is.
package chatwoottest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// Webhook kinds: which Chatwoot webhook a body is delivered to, and so which
// secret signs it (docs/chatwoot.md §1.3, §3).
const (
	// AccountWebhook is an account webhook (Settings → Integrations →
	// Webhooks), signed with that webhook's secret. It receives every event
	// it subscribed to, for every inbox of the account.
	AccountWebhook = "account"
	// APIInboxWebhook is an API-channel inbox's webhook URL, signed with the
	// channel's secret. It receives the message, conversation and typing
	// events of its own inbox, never contact or inbox events. Chatwoot also
	// delivers the same bytes to the account's webhooks.
	APIInboxWebhook = "api_inbox"
)

// ManifestFile is the manifest's name in the corpus directory.
const ManifestFile = "manifest.json"

// Entry is one body of the manifest.
type Entry struct {
	File    string `json:"file"`
	Event   string `json:"event"`
	Webhook string `json:"webhook"`
	// AccountID is the account the body belongs to, whether or not the
	// payload names it (conversation payloads before Chatwoot 4.14.2 do not).
	AccountID int64 `json:"account_id"`
	// ConversationID is the conversation's display id, 0 when the event
	// concerns none (contacts, inboxes, a widget opened before any
	// conversation).
	ConversationID int64 `json:"conversation_id"`
	// Bytes is the length of the body as Chatwoot posts it (uncompressed).
	Bytes int    `json:"bytes"`
	Note  string `json:"note"`
}

// Body is an entry with its raw bytes, exactly as Chatwoot posts and signs
// them.
type Body struct {
	Entry
	Raw []byte
}

// Dir is the corpus directory of this checkout.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		panic("chatwoottest: cannot locate the corpus")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "testdata", "chatwoot", "corpus")
}

// Manifest reads dir's manifest.
func Manifest(dir string) ([]Entry, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var entries []Entry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("chatwoottest: %s: %w", ManifestFile, err)
	}
	return entries, nil
}

// Load reads every body of dir's manifest, in manifest order, and checks
// each has the length the manifest gives.
func Load(dir string) ([]Body, error) {
	entries, err := Manifest(dir)
	if err != nil {
		return nil, err
	}
	out := make([]Body, 0, len(entries))
	for _, e := range entries {
		raw, err := ReadFile(filepath.Join(dir, e.File))
		if err != nil {
			return nil, err
		}
		if len(raw) != e.Bytes {
			return nil, fmt.Errorf("chatwoottest: %s has %d bytes, the manifest says %d", e.File, len(raw), e.Bytes)
		}
		out = append(out, Body{Entry: e, Raw: raw})
	}
	return out, nil
}

// ReadFile reads a body, gunzipping a .gz file.
func ReadFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return b, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("chatwoottest: %s: %w", path, err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("chatwoottest: %s: %w", path, err)
	}
	return raw, nil
}
