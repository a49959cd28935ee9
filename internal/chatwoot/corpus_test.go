package chatwoot_test

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/chatwoot/chatwoottest"
)

var updateCorpus = flag.Bool("update", false, "rewrite testdata/chatwoot/corpus from the generator")

// TestCorpus regenerates the corpus of webhook bodies, compares it with
// testdata/chatwoot/corpus (-update rewrites that), and checks that every
// body the pipeline uses passes Check and Decode with the Head it names.
func TestCorpus(t *testing.T) {
	bodies := buildCorpus()
	dir := chatwoottest.Dir()
	if *updateCorpus {
		writeCorpus(t, dir, bodies)
	}
	t.Log("corpus:\n" + describeCorpus(bodies))

	onDisk, err := chatwoottest.Load(dir)
	require.NoError(t, err, "run: go test ./internal/chatwoot -run TestCorpus -update")
	require.Len(t, onDisk, len(bodies), "run: go test ./internal/chatwoot -run TestCorpus -update")
	for i, b := range bodies {
		assert.Equal(t, b.Entry, onDisk[i].Entry)
		if !bytes.Equal(b.raw, onDisk[i].Raw) {
			t.Errorf("%s differs from the generator; run: go test ./internal/chatwoot -run TestCorpus -update", b.File)
		}
	}
	assert.Equal(t, corpusFiles(bodies), filesIn(t, dir), "files in the corpus directory")

	for _, b := range bodies {
		t.Run(b.File, func(t *testing.T) { checkCorpusBody(t, b) })
	}
}

// TestCorpusCoverage pins what the corpus is for: every event Chatwoot
// sends, for the webhooks that receive it, at the sizes that broke the edge.
func TestCorpusCoverage(t *testing.T) {
	bodies := buildCorpus()
	events := map[string]map[string]bool{}
	for _, b := range bodies {
		if events[b.Event] == nil {
			events[b.Event] = map[string]bool{}
		}
		events[b.Event][b.Webhook] = true
		if b.Webhook == chatwoottest.APIInboxWebhook {
			assert.False(t, strings.HasPrefix(b.Event, "contact_") || strings.HasPrefix(b.Event, "inbox_") || b.Event == "webwidget_triggered",
				"%s: API-inbox webhooks never receive %s", b.File, b.Event)
		}
	}
	// Webhook::ALLOWED_WEBHOOK_EVENTS (app/models/webhook.rb).
	for _, e := range []string{"conversation_status_changed", "conversation_updated", "conversation_created",
		"contact_created", "contact_updated", "message_created", "message_updated", "webwidget_triggered",
		"inbox_created", "inbox_updated", "conversation_typing_on", "conversation_typing_off"} {
		assert.True(t, events[e][chatwoottest.AccountWebhook] || events[e][chatwoottest.APIInboxWebhook], "no %s body", e)
	}
	for _, e := range []string{"conversation_created", "conversation_updated", "conversation_status_changed",
		"message_created", "message_updated", "conversation_typing_on"} {
		assert.True(t, events[e][chatwoottest.APIInboxWebhook], "no %s body for an API-inbox webhook", e)
	}

	sizes := map[string][2]int{
		"message_created_email_1_3mb":             {1_250_000, 1_350_000},
		"message_created_email_4mb":               {3_900_000, 4_100_000},
		"conversation_status_changed_after_email": {1_050_000, 1_110_000},
	}
	for _, b := range bodies {
		for name, r := range sizes {
			if strings.Contains(b.File, name) {
				assert.True(t, b.Bytes >= r[0] && b.Bytes <= r[1], "%s: %d bytes, want %d–%d", b.File, b.Bytes, r[0], r[1])
				delete(sizes, name)
			}
		}
	}
	assert.Empty(t, sizes, "large bodies missing from the corpus")
}

func checkCorpusBody(t *testing.T, b corpusBody) {
	// As ActiveSupport writes JSON: compact, '<', '>' and '&' only ever
	// escaped, '/' never.
	assert.Equal(t, byte('{'), b.raw[0])
	assert.False(t, bytes.ContainsAny(b.raw, "<>&\n"), "raw <, >, & or newline")
	assert.False(t, bytes.Contains(b.raw, []byte(`\/`)), `escaped "/"`)
	require.True(t, json.Valid(b.raw))

	h, err := chatwoot.Check(b.raw)
	require.NoError(t, err, "Check refuses a body Chatwoot sends")
	if b.head.Kind == chatwoot.KindUnknown {
		assert.Equal(t, b.Event, h.Event)
		assert.Equal(t, chatwoot.KindUnknown, h.Kind, "an event the pipeline ignores")
		return
	}
	assert.Equal(t, b.head, h, "Check's Head")

	p, err := chatwoot.Decode(b.raw)
	require.NoError(t, err, "Decode refuses a body Check passed")
	assert.Equal(t, b.head, p.Head, "Decode's Head")
	switch h.Kind {
	case chatwoot.KindMessage:
		require.NotNil(t, p.Message)
		require.NotNil(t, p.Message.Conversation)
		assert.Equal(t, h.ConversationID, p.Message.Conversation.ID)
		assert.False(t, p.Message.CreatedAt.IsZero(), "created_at")
	case chatwoot.KindConversation:
		require.NotNil(t, p.Conversation)
		assert.False(t, p.Conversation.UpdatedAt.IsZero(), "updated_at")
		assert.False(t, p.Conversation.CreatedAt.IsZero(), "created_at")
	case chatwoot.KindContact:
		require.NotNil(t, p.Contact)
		require.NotNil(t, p.Contact.Account)
	}
}

func corpusFiles(bodies []corpusBody) []string {
	files := []string{chatwoottest.ManifestFile}
	for _, b := range bodies {
		files = append(files, b.File)
	}
	return sorted(files)
}

func filesIn(t *testing.T, dir string) []string {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var files []string
	for _, e := range entries {
		files = append(files, e.Name())
	}
	return sorted(files)
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// writeCorpus rewrites dir from the generator. A gzipped file whose content
// is unchanged is left alone: another Go version may compress it to other
// bytes, and that is no change.
func writeCorpus(t *testing.T, dir string, bodies []corpusBody) {
	require.NoError(t, os.MkdirAll(dir, 0o755))
	keep := map[string]bool{chatwoottest.ManifestFile: true}
	entries := make([]chatwoottest.Entry, len(bodies))
	for i, b := range bodies {
		keep[b.File] = true
		entries[i] = b.Entry
		path := filepath.Join(dir, b.File)
		if old, err := chatwoottest.ReadFile(path); err == nil && bytes.Equal(old, b.raw) {
			continue
		}
		data := b.raw
		if strings.HasSuffix(b.File, ".gz") {
			var buf bytes.Buffer
			zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
			require.NoError(t, err)
			_, err = zw.Write(b.raw)
			require.NoError(t, err)
			require.NoError(t, zw.Close())
			data = buf.Bytes()
		}
		require.NoError(t, os.WriteFile(path, data, 0o644))
	}
	files, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, f := range files {
		if !keep[f.Name()] {
			require.NoError(t, os.Remove(filepath.Join(dir, f.Name())))
		}
	}
	var manifest bytes.Buffer
	enc := json.NewEncoder(&manifest)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	require.NoError(t, enc.Encode(entries))
	require.NoError(t, os.WriteFile(filepath.Join(dir, chatwoottest.ManifestFile), manifest.Bytes(), 0o644))
}
