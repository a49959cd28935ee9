package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/chatwoot"
)

// TestSendGzip: a .json.gz body is signed and posted as its JSON, and the
// corpus manifest is not posted at all.
func TestSendGzip(t *testing.T) {
	body := []byte(`{"event":"message_created","id":880612,"content":"a \u003clarge\u003e email"}`)
	dir := t.TempDir()
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	_, err := zw.Write(body)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	gz := filepath.Join(dir, "15_account_message_created_email.json.gz")
	require.NoError(t, os.WriteFile(gz, z.Bytes(), 0o600))
	manifest := filepath.Join(dir, corpusManifest)
	require.NoError(t, os.WriteFile(manifest, []byte(`[]`), 0o600))

	verifier := chatwoot.NewVerifier([]string{"s3cret"}, chatwoot.DefaultTolerance)
	var mu sync.Mutex
	var got [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if verifier.Verify(r.Header.Get("X-Chatwoot-Timestamp"), r.Header.Get("X-Chatwoot-Signature"), b, time.Now()) != nil {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		mu.Lock()
		got = append(got, b)
		mu.Unlock()
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()

	var out, errOut bytes.Buffer
	code := run(context.Background(), []string{"send", "--url", srv.URL, "--secret", "s3cret", gz, manifest}, nil, &out, &errOut)
	require.Equal(t, 0, code, errOut.String())
	assert.Contains(t, out.String(), "skipped (corpus manifest")
	require.Len(t, got, 1)
	assert.Equal(t, body, got[0])
}
