package local

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"supportpipe/internal/chatwoot"
	"supportpipe/internal/ports/private"
	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/drafting/providers"
)

// Config is the local server's environment: the settings (read as the
// Lambda functions read them) and the secrets, which this runtime takes from
// the environment or keeps in the data dir.
type Config struct {
	config.Settings
	WebhookSecrets []string
	APIToken       string
	ChatwootToken  string
	// OpenAIKey is the OpenAI-compatible endpoint's key (OPENAI_API_KEY),
	// for drafting.provider openai.
	OpenAIKey string
	// Generated lists the secrets this run generated, so the caller can print them once.
	Generated map[string]string
}

// secretFile returns the value of env var name, or the value persisted in the
// data dir, or a new random value that it persists (0600) and reports as generated.
func secretFile(dir, name string, generated map[string]string) (string, error) {
	path := filepath.Join(dir, strings.ToLower(name))
	// A file an earlier run left readable by others is tightened before it
	// is read or rewritten (WriteFile keeps an existing file's mode), and
	// even when the environment overrides it: it still holds a secret.
	if err := private.Tighten(path); err != nil {
		return "", err
	}
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v, nil
	}
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	var raw [24]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", err
	}
	// Alphanumeric-ish like Chatwoot's has_secure_token, so it pastes anywhere.
	v := strings.NewReplacer("+", "A", "/", "B", "=", "").Replace(base64.StdEncoding.EncodeToString(raw[:]))
	if err := os.WriteFile(path, []byte(v+"\n"), private.File); err != nil {
		return "", fmt.Errorf("persist %s: %w", path, err)
	}
	generated[name] = v
	return v, nil
}

// LoadConfig reads the environment, creating the data dir and generating the
// webhook secret and API token when they are not set.
func LoadConfig() (Config, error) {
	settings, err := config.ReadSettings(os.Getenv)
	c := Config{Settings: settings, Generated: map[string]string{}}
	if err != nil {
		return c, err
	}
	// A data dir this creates is 0700. One that exists keeps its mode: the
	// user made it and may share it; everything the product puts in it is
	// the owner's only (0600 files, 0700 folders), so others can at most
	// list names.
	if err := os.MkdirAll(c.DataDir, private.Dir); err != nil {
		return c, fmt.Errorf("data dir: %w", err)
	}
	secret, err := secretFile(c.DataDir, "CHATWOOT_WEBHOOK_SECRET", c.Generated)
	if err != nil {
		return c, err
	}
	if c.WebhookSecrets, err = chatwoot.ParseSecrets(secret); err != nil {
		return c, err
	}
	if c.APIToken, err = secretFile(c.DataDir, "SUPPORT_API_TOKEN", c.Generated); err != nil {
		return c, err
	}
	c.ChatwootToken = os.Getenv("CHATWOOT_API_TOKEN")
	c.OpenAIKey = os.Getenv(providers.OpenAIKeyEnv)
	return c, nil
}
