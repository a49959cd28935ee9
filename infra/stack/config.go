package stack

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"supportpipe/internal/runtime/config"
	"supportpipe/internal/support/drafting"
)

// FunctionNames are the Lambda functions of the pipeline. Each one is a
// prebuilt linux/arm64 binary at <dist>/<name>/bootstrap (built by the
// Makefile); the folder <dist>/<name> is the Lambda code asset.
var FunctionNames = []string{"webhook", "processor", "drafter", "report", "api", "sweeper"}

// Context keys (cdk -c key=value, cdk.json "context", or AppProps.Context).
const (
	// CtxDistDir overrides where the bootstraps are read from. The env var
	// DIST_DIR does the same; the context key wins when both are set.
	CtxDistDir = "distDir"
	// CtxChatwootBaseURL, CtxChatwootAccountID and CtxChatwootLive become the
	// CHATWOOT_BASE_URL, CHATWOOT_ACCOUNT_ID and CHATWOOT_LIVE variables.
	CtxChatwootBaseURL   = "chatwootBaseUrl"
	CtxChatwootAccountID = "chatwootAccountId"
	CtxChatwootLive      = "chatwootLive"
	// CtxAlertsEmail and CtxEscalationsEmail optionally subscribe an e-mail
	// address to the alerts / escalations topic.
	CtxAlertsEmail      = "alertsEmail"
	CtxEscalationsEmail = "escalationsEmail"
	// CtxSupportConfig names the pipeline's configuration file (business
	// hours, SLA, tags, VIP rules); it is checked at synth time and passed to
	// the functions as SUPPORT_CONFIG_YAML.
	CtxSupportConfig = "supportConfig"
	// CtxWebhookRateLimit and CtxWebhookBurstLimit throttle the webhook
	// routes (requests per second, and the bucket a burst may draw on);
	// CtxWebhookConcurrency reserves that much Lambda concurrency for the
	// webhook function. Chatwoot never retries a 429: see the runbook.
	CtxWebhookRateLimit   = "webhookRateLimit"
	CtxWebhookBurstLimit  = "webhookBurstLimit"
	CtxWebhookConcurrency = "webhookReservedConcurrency"

	// EnvDistDir is the environment variable naming the bootstrap folder.
	EnvDistDir = "DIST_DIR"
	// DefaultDistDir is used when neither the context nor DIST_DIR is set;
	// relative to the working directory, which is the repository root when
	// the app runs through `cdk` (cdk.json lives there).
	DefaultDistDir = "dist"
)

// Defaults for the Chatwoot context values. CHATWOOT_LIVE defaults to
// "false" so a fresh deployment records actions instead of writing to a
// real Chatwoot account until someone opts in with -c chatwootLive=true.
const (
	DefaultChatwootBaseURL   = "https://app.chatwoot.com"
	DefaultChatwootAccountID = "1"
	DefaultChatwootLive      = "false"
)

// Defaults of the webhook route's throttling and reserved concurrency: well
// above what Chatwoot sends in a bulk action or a campaign (a request per
// event, each answered in milliseconds), so the route is never the first
// thing to break.
const (
	DefaultWebhookRateLimit   = 1000
	DefaultWebhookBurstLimit  = 2000
	DefaultWebhookConcurrency = 50
)

// Config is the deploy-time configuration read from context and env.
type Config struct {
	DistDir           string
	ChatwootBaseURL   string
	ChatwootAccountID string
	ChatwootLive      string
	AlertsEmail       string
	EscalationsEmail  string
	// SupportConfig is the configuration file's content, or "" for defaults.
	SupportConfig string
	// Support is the configuration the functions run with (the file, or the
	// defaults): the alarms read their queue thresholds from it, the
	// drafter's timeout, permissions and code follow its drafting section.
	Support *config.Config
	// Knowledge is drafting.knowledge as the drafter will open it: a clean
	// path relative to the working directory, checked at synth and bundled
	// into the drafter's code at that path; "" when the file names none.
	Knowledge string

	WebhookRateLimit, WebhookBurstLimit, WebhookConcurrency int
}

// contextString returns the context value for key as a string, or def when
// it is unset or empty.
func contextString(node constructs.Node, key, def string) string {
	v := node.TryGetContext(jsii.String(key))
	if v == nil {
		return def
	}
	s := strings.TrimSpace(fmt.Sprint(v))
	if s == "" {
		return def
	}
	return s
}

// ResolveDistDir picks the bootstrap folder: context distDir, then env
// DIST_DIR, then "dist".
func ResolveDistDir(node constructs.Node) string {
	if d := contextString(node, CtxDistDir, ""); d != "" {
		return d
	}
	if d := strings.TrimSpace(os.Getenv(EnvDistDir)); d != "" {
		return d
	}
	return DefaultDistDir
}

// LoadConfig reads the configuration from the construct tree's context
// (and DIST_DIR from the environment). An error names the context key at
// fault in one line.
func LoadConfig(node constructs.Node) (Config, error) {
	c := Config{
		DistDir:           ResolveDistDir(node),
		ChatwootBaseURL:   contextString(node, CtxChatwootBaseURL, DefaultChatwootBaseURL),
		ChatwootAccountID: contextString(node, CtxChatwootAccountID, DefaultChatwootAccountID),
		ChatwootLive:      contextString(node, CtxChatwootLive, DefaultChatwootLive),
		AlertsEmail:       contextString(node, CtxAlertsEmail, ""),
		EscalationsEmail:  contextString(node, CtxEscalationsEmail, ""),
	}
	var errs []error
	var err error
	file := contextString(node, CtxSupportConfig, "")
	if c.SupportConfig, c.Support, err = supportConfig(file); err != nil {
		errs = append(errs, err)
	} else if err := checkDrafting(c.Support.Drafting.Config); err != nil {
		errs = append(errs, fmt.Errorf("-c %s=%s: %w", CtxSupportConfig, file, err))
	} else if c.Knowledge, err = knowledgeFile(c.Support.Drafting.Knowledge); err != nil {
		errs = append(errs, fmt.Errorf("-c %s=%s: %w", CtxSupportConfig, file, err))
	}
	for _, n := range []struct {
		key string
		def int
		to  *int
	}{
		{CtxWebhookRateLimit, DefaultWebhookRateLimit, &c.WebhookRateLimit},
		{CtxWebhookBurstLimit, DefaultWebhookBurstLimit, &c.WebhookBurstLimit},
		{CtxWebhookConcurrency, DefaultWebhookConcurrency, &c.WebhookConcurrency},
	} {
		v := contextString(node, n.key, strconv.Itoa(n.def))
		i, err := strconv.Atoi(v)
		if err != nil || i <= 0 {
			errs = append(errs, fmt.Errorf("-c %s=%s: want a positive whole number", n.key, v))
			continue
		}
		*n.to = i
	}
	return c, errors.Join(errs...)
}

// supportConfig reads and checks the configuration file, so a typo fails
// the synth instead of every function's cold start.
func supportConfig(path string) (string, *config.Config, error) {
	if path == "" {
		c, err := config.Parse(nil)
		return "", c, err
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("-c %s: %w", CtxSupportConfig, err)
	}
	c, err := config.Parse(b)
	if err != nil {
		return "", nil, fmt.Errorf("-c %s=%s: %w", CtxSupportConfig, path, err)
	}
	return string(b), c, nil
}

// checkDrafting refuses a drafting section the drafter could not run with
// on Lambda: a model timeout that leaves no room under Lambda's 15
// minutes, or a Bedrock model IAM cannot name.
func checkDrafting(d drafting.Config) error {
	if t := drafterTimeoutSeconds(d); t > LambdaMaxTimeoutSeconds {
		return fmt.Errorf("drafting.timeout: %v makes the drafter's timeout %d s, above Lambda's %d s (at most %v)",
			d.Timeout, t, LambdaMaxTimeoutSeconds, time.Duration(LambdaMaxTimeoutSeconds-DrafterOverheadSeconds)*time.Second)
	}
	if d.Provider == drafting.Bedrock {
		if _, err := parseBedrockModel(d.Bedrock.ModelID); err != nil {
			return err
		}
	}
	return nil
}

// knowledgeFile checks drafting.knowledge at synth and returns it clean.
// The drafter opens it as written, relative to its working directory,
// which on Lambda is /var/task, the root of its code; so the file is
// bundled into the code at the same relative path, and it must be a
// relative path inside the directory the app runs in (the repository
// root, through cdk): an absolute path, or one that climbs out with
// "..", names a place the drafter's code does not have. It is read as
// the drafter reads it, so a broken file fails the synth rather than
// every cold start. The error is one line naming the file.
func knowledgeFile(path string) (string, error) {
	if path == "" {
		return "", nil
	}
	fail := func(format string, args ...any) (string, error) {
		return "", fmt.Errorf("drafting.knowledge %s: "+format, append([]any{path}, args...)...)
	}
	wd, err := os.Getwd()
	if err != nil {
		return fail("%v", err)
	}
	if filepath.IsAbs(path) {
		if rel, err := filepath.Rel(wd, path); err == nil && filepath.IsLocal(rel) {
			return fail("an absolute path; give it relative to %s (%s) so the drafter finds it in its code", wd, filepath.ToSlash(rel))
		}
		return fail("an absolute path outside %s, the directory the stack is synthesized in; only a file under it, named relative to it, can be bundled into the drafter's code", wd)
	}
	if !filepath.IsLocal(path) {
		return fail("outside %s, the directory the stack is synthesized in; only a file under it can be bundled into the drafter's code", wd)
	}
	fi, err := os.Stat(path)
	switch {
	case err != nil:
		return fail("not found relative to %s", wd)
	case !fi.Mode().IsRegular():
		return fail("not a regular file (relative to %s)", wd)
	}
	if _, err := drafting.LoadKnowledge(path); err != nil {
		lines := strings.Split(err.Error(), "\n")
		msg := lines[0]
		if len(lines) > 1 {
			msg += fmt.Sprintf(" (and %d more)", len(lines)-1)
		}
		return "", errors.New("drafting." + msg)
	}
	return filepath.Clean(path), nil
}

// CheckBootstraps verifies that <dir>/<name>/bootstrap exists as a regular
// file for every function. CDK would otherwise either fail deep inside jsii
// with an unhelpful message or, worse, package an empty folder. The error
// names every missing file and how to fix it.
func CheckBootstraps(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	var missing []string
	for _, name := range FunctionNames {
		p := filepath.Join(abs, name, "bootstrap")
		fi, err := os.Stat(p)
		switch {
		case err != nil:
			missing = append(missing, p)
		case !fi.Mode().IsRegular():
			missing = append(missing, p+" (not a regular file)")
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return errors.New("missing Lambda bootstrap(s):\n  " + strings.Join(missing, "\n  ") +
		"\nbuild them first (make build: GOOS=linux GOARCH=arm64 CGO_ENABLED=0 go build -tags lambda.norpc -o dist/<name>/bootstrap ...)" +
		",\nor point " + EnvDistDir + " / -c " + CtxDistDir + "=DIR at a folder holding <name>/bootstrap for: " +
		strings.Join(FunctionNames, ", "))
}
