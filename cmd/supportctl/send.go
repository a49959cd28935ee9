package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"supportpipe/internal/chatwoot"
)

func send(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	url := fs.String("url", envOr("SUPPORT_WEBHOOK_URL", "http://"+envOr("SUPPORT_ADDR", "127.0.0.1:8080")+"/webhooks/chatwoot"), "webhook URL")
	secret := fs.String("secret", "", "signing secret (default: first of CHATWOOT_WEBHOOK_SECRET, else the local data dir's)")
	delivery := fs.String("delivery", "", "X-Chatwoot-Delivery to send (default: a new UUID per file)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fmt.Errorf("send: no files")
	}
	key := *secret
	if key == "" {
		key = localSecret()
	}
	if key == "" {
		return fmt.Errorf("send: no secret: pass --secret or set CHATWOOT_WEBHOOK_SECRET")
	}
	client := &http.Client{Timeout: 5 * time.Second} // Chatwoot's own timeout
	failed := 0
	sent := 0
	for _, f := range fs.Args() {
		if filepath.Base(f) == corpusManifest {
			// So that "send testdata/chatwoot/corpus/*" sends the bodies only.
			fmt.Printf("%s\tskipped (corpus manifest, not a webhook body)\n", f)
			continue
		}
		body, err := readBody(f)
		if err != nil {
			return err
		}
		sent++
		id := *delivery
		if id == "" {
			id = uuid.NewString()
		}
		status, resp, err := post(ctx, client, *url, []byte(key), id, body)
		if err != nil {
			fmt.Printf("%s\terror\t%v\n", f, err)
			failed++
			continue
		}
		fmt.Printf("%s\t%d\t%s\n", f, status, strings.TrimSpace(resp))
		if status >= 300 {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("send: %d of %d not accepted", failed, sent)
	}
	return nil
}

// corpusManifest lists the bodies of testdata/chatwoot/corpus.
const corpusManifest = "manifest.json"

// readBody reads a file to send. A .gz file is gunzipped: the corpus keeps
// its large bodies compressed, and what is signed and posted is the JSON.
func readBody(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil || !strings.HasSuffix(path, ".gz") {
		return b, err
	}
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	body, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return body, nil
}

// post sends body exactly as Chatwoot's Webhooks::Trigger does: the timestamp
// is taken at send time and signed together with the raw body.
func post(ctx context.Context, c *http.Client, url string, secret []byte, delivery string, body []byte) (int, string, error) {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-Chatwoot-Delivery", delivery)
	req.Header.Set("X-Chatwoot-Timestamp", ts)
	req.Header.Set("X-Chatwoot-Signature", chatwoot.Sign(secret, ts, body))
	resp, err := c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, string(b), nil
}

func localSecret() string {
	if s, err := chatwoot.ParseSecrets(os.Getenv("CHATWOOT_WEBHOOK_SECRET")); err == nil {
		return s[0]
	}
	b, err := os.ReadFile(filepath.Join(envOr("SUPPORT_DATA_DIR", ".data"), "chatwoot_webhook_secret"))
	if err != nil {
		return ""
	}
	if s, err := chatwoot.ParseSecrets(string(b)); err == nil {
		return s[0]
	}
	return ""
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
