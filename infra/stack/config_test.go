package stack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"
)

func TestOutputs(t *testing.T) {
	for _, name := range []string{
		"WebhookUrl", "ApiUrl", "BucketName", "TableName", "QueueUrl", "DlqUrl",
		"DraftsQueueUrl", "DraftsDlqUrl", "AlertsTopicArn", "EscalationsTopicArn",
	} {
		check(t, "output "+name, func() { tmpl.HasOutput(jsii.String(name), M{"Value": anyValue()}) })
	}
	outs, _ := tjson["Outputs"].(M)
	if v := js(outs["WebhookUrl"].(M)["Value"]); !strings.Contains(v, "webhooks/chatwoot") || !strings.Contains(v, logicalID(sup.HTTPAPI)) {
		t.Errorf("WebhookUrl = %s", v)
	}
	if v := js(outs["ApiUrl"].(M)["Value"]); !strings.Contains(v, "support/") {
		t.Errorf("ApiUrl = %s", v)
	}
	for name, want := range map[string]M{
		"QueueUrl":            ref(logicalID(sup.Queue)),
		"DlqUrl":              ref(logicalID(sup.DLQ)),
		"DraftsQueueUrl":      ref(logicalID(sup.Drafts)),
		"DraftsDlqUrl":        ref(logicalID(sup.DraftsDLQ)),
		"TableName":           ref(logicalID(sup.Table)),
		"BucketName":          ref(logicalID(sup.Bucket)),
		"AlertsTopicArn":      ref(logicalID(sup.Alerts)),
		"EscalationsTopicArn": ref(logicalID(sup.Escalations)),
	} {
		if got := js(outs[name].(M)["Value"]); got != js(want) {
			t.Errorf("%s = %s, want %s", name, got, js(want))
		}
	}
}

func TestEnvironmentAgnostic(t *testing.T) {
	// No hard-coded account or region: synth works without credentials and
	// the same template deploys anywhere.
	if a := *sup.Stack.Account(); !strings.HasPrefix(a, "${Token[") {
		t.Errorf("stack account is %q, want unresolved", a)
	}
	if r := *sup.Stack.Region(); !strings.HasPrefix(r, "${Token[") {
		t.Errorf("stack region is %q, want unresolved", r)
	}
	if *sup.Stack.StackName() != "SupportStack" {
		t.Errorf("stack name %q", *sup.Stack.StackName())
	}
}

func TestCheckBootstraps(t *testing.T) {
	if err := CheckBootstraps(placeholderDist); err != nil {
		t.Errorf("complete dist: %v", err)
	}

	dir := t.TempDir()
	if err := writePlaceholders(dir); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "report", "bootstrap"))
	os.Remove(filepath.Join(dir, "sweeper", "bootstrap"))
	os.Mkdir(filepath.Join(dir, "sweeper", "bootstrap"), 0o755) // a folder is not a binary
	err := CheckBootstraps(dir)
	if err == nil {
		t.Fatal("missing bootstraps not reported")
	}
	msg := err.Error()
	for _, want := range []string{
		filepath.Join(dir, "report", "bootstrap"),
		filepath.Join(dir, "sweeper", "bootstrap") + " (not a regular file)",
		"DIST_DIR", "distDir", "make build",
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("error does not mention %q:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, filepath.Join(dir, "webhook", "bootstrap")) {
		t.Errorf("error lists a present bootstrap:\n%s", msg)
	}
}

func TestNewSupportStackRefusesMissingBootstraps(t *testing.T) {
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	defer func() {
		r := recover()
		if r == nil {
			t.Fatal("no panic for an empty dist folder")
		}
		if msg, _ := r.(string); !strings.Contains(msg, "missing Lambda bootstrap") {
			t.Errorf("panic = %v", r)
		}
	}()
	NewSupportStack(app, "Broken", &Props{DistDir: t.TempDir()})
}

func TestResolveDistDir(t *testing.T) {
	t.Setenv(EnvDistDir, "")
	plain := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	if got := ResolveDistDir(plain.Node()); got != "dist" {
		t.Errorf("default = %q", got)
	}
	t.Setenv(EnvDistDir, "/from/env")
	if got := ResolveDistDir(plain.Node()); got != "/from/env" {
		t.Errorf("env = %q", got)
	}
	ctx := awscdk.NewApp(&awscdk.AppProps{
		Outdir:  jsii.String(t.TempDir()),
		Context: &map[string]interface{}{CtxDistDir: "/from/context"},
	})
	if got := ResolveDistDir(ctx.Node()); got != "/from/context" {
		t.Errorf("context should win over env, got %q", got)
	}
}

func TestLoadConfigDefaults(t *testing.T) {
	t.Setenv(EnvDistDir, "")
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir())})
	got, err := LoadConfig(app.Node())
	if err != nil {
		t.Fatal(err)
	}
	if got.Support == nil || got.Support.Queue.AlertDepth != 50 || got.Support.Queue.EscalateDepth != 100 {
		t.Errorf("default support config = %+v", got.Support)
	}
	got.Support = nil
	want := Config{
		DistDir:            "dist",
		ChatwootBaseURL:    "https://app.chatwoot.com",
		ChatwootAccountID:  "1",
		ChatwootLive:       "false", // recording mock until someone opts in
		WebhookRateLimit:   1000,
		WebhookBurstLimit:  2000,
		WebhookConcurrency: 50,
	}
	if got != want {
		t.Errorf("defaults = %+v, want %+v", got, want)
	}
}

// TestLoadConfigErrors: a wrong context value fails with one line naming
// the key, never a stack trace.
func TestLoadConfigErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("queue: {alert_depht: 5}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for key, value := range map[string]string{
		CtxWebhookRateLimit:   "fast",
		CtxWebhookBurstLimit:  "-1",
		CtxWebhookConcurrency: "0",
		CtxSupportConfig:      bad,
	} {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &map[string]interface{}{key: value}})
		_, err := LoadConfig(app.Node())
		if err == nil || !strings.Contains(err.Error(), "-c "+key) || strings.Contains(err.Error(), "\n") {
			t.Errorf("-c %s=%s: error %v, want one line naming the key", key, value, err)
		}
	}
}

// TestContextOverrides checks that the shared stack (built with every
// context key set, see testContext) carries the values.
func TestContextOverrides(t *testing.T) {
	check(t, "context reaches every function", func() {
		tmpl.AllResourcesProperties(jsii.String("AWS::Lambda::Function"), M{
			"Environment": M{"Variables": M{
				"CHATWOOT_BASE_URL":   "https://chat.example.com",
				"CHATWOOT_ACCOUNT_ID": "42",
				"CHATWOOT_LIVE":       "true",
			}},
		})
	})
	countIs(t, "AWS::SNS::Subscription", 2)
	for email, topic := range map[string]string{
		"oncall@example.com": logicalID(sup.Alerts),
		"lead@example.com":   logicalID(sup.Escalations),
	} {
		hasProps(t, "subscription "+email, "AWS::SNS::Subscription", M{
			"Protocol": "email", "Endpoint": email, "TopicArn": ref(topic),
		})
	}
	// Props.DistDir beat the distDir context key.
	if sup.Config.DistDir != placeholderDist {
		t.Errorf("DistDir = %q, want the Props value", sup.Config.DistDir)
	}
}
