package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"supportpipe/internal/chatwoot"
)

func init() {
	register(func() *cobra.Command {
		c := &cobra.Command{
			Use:   "send [--url URL] [--secret S] [--delivery ID] FILE...",
			Short: "sign files exactly as Chatwoot does and POST them",
			Long: `send posts each FILE (a Chatwoot webhook body; .gz files are gunzipped) to the
webhook URL, signed as Chatwoot signs (X-Chatwoot-Signature over
"<timestamp>.<body>", X-Chatwoot-Timestamp now, X-Chatwoot-Delivery a new UUID
per file). It prints one line per file: the file, the HTTP status and the
answer. The corpus manifest (manifest.json) is skipped.

The secret defaults to the first of CHATWOOT_WEBHOOK_SECRET, else the one
serve keeps in SUPPORT_DATA_DIR; the URL to SUPPORT_WEBHOOK_URL, else
http://SUPPORT_ADDR/webhooks/chatwoot. Exit code 1 when any file was not
accepted.`,
			Example: `  supportctl send testdata/chatwoot/*.json
  supportctl send --url https://example.net/webhooks/chatwoot/27 --secret S body.json`,
			Args: args(1, -1, "FILE to send"),
			ValidArgsFunction: func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
				return []cobra.Completion{"json", "gz"}, cobra.ShellCompDirectiveFilterFileExt
			},
		}
		url := c.Flags().String("url", defaultWebhookURL(), "webhook URL")
		secret := c.Flags().String("secret", "", "signing secret (default: first of CHATWOOT_WEBHOOK_SECRET, else the data dir's)")
		delivery := c.Flags().String("delivery", "", "X-Chatwoot-Delivery to send (default: a new UUID per file)")
		for _, f := range []string{"url", "secret", "delivery"} {
			_ = c.RegisterFlagCompletionFunc(f, cobra.NoFileCompletions)
		}
		c.RunE = func(c *cobra.Command, files []string) error {
			return send(c.Context(), c.OutOrStdout(), *url, *secret, *delivery, files)
		}
		return c
	})
}

// defaultWebhookURL is where send and demo post unless told otherwise.
func defaultWebhookURL() string {
	return envOr("SUPPORT_WEBHOOK_URL", "http://"+localAddr()+"/webhooks/chatwoot")
}

func send(ctx context.Context, stdout io.Writer, url, secret, delivery string, files []string) error {
	key := secret
	if key == "" {
		key = localSecret()
	}
	if key == "" {
		return usageErrorf("no secret: pass --secret, set CHATWOOT_WEBHOOK_SECRET, or run serve once so that %s holds one",
			filepath.Join(dataDir(), "chatwoot_webhook_secret"))
	}
	client := &http.Client{Timeout: 5 * time.Second} // Chatwoot's own timeout
	failed := 0
	sent := 0
	for _, f := range files {
		if filepath.Base(f) == corpusManifest {
			// So that "send testdata/chatwoot/corpus/*" sends the bodies only.
			fmt.Fprintf(stdout, "%s\tskipped (corpus manifest, not a webhook body)\n", f)
			continue
		}
		body, err := readBody(f)
		if err != nil {
			return err
		}
		sent++
		id := delivery
		if id == "" {
			id = uuid.NewString()
		}
		status, resp, err := post(ctx, client, url, []byte(key), id, body)
		if err != nil {
			fmt.Fprintf(stdout, "%s\terror\t%v\n", f, err)
			failed++
			continue
		}
		fmt.Fprintf(stdout, "%s\t%d\t%s\n", f, status, strings.TrimSpace(resp))
		if status >= 300 {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d not accepted", failed, sent)
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
	b, err := os.ReadFile(filepath.Join(dataDir(), "chatwoot_webhook_secret"))
	if err != nil {
		return ""
	}
	if s, err := chatwoot.ParseSecrets(string(b)); err == nil {
		return s[0]
	}
	return ""
}

// dataDir is the local data dir, as serve reads it.
func dataDir() string { return envOr("SUPPORT_DATA_DIR", ".data") }

// localAddr is serve's listen address.
func localAddr() string { return envOr("SUPPORT_ADDR", "127.0.0.1:8080") }

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
