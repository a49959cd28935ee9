package stack

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"

	"supportpipe/internal/devtools/awscost"
)

func TestHTTPAPIRoutes(t *testing.T) {
	countIs(t, "AWS::ApiGatewayV2::Api", 1)
	hasProps(t, "HTTP API", "AWS::ApiGatewayV2::Api", M{"ProtocolType": "HTTP"})

	// Route key → function it must reach.
	webhook, api := logicalID(sup.Webhook), logicalID(sup.API)
	want := map[string]string{
		"POST /webhooks/chatwoot":              webhook,
		"POST /webhooks/chatwoot/{account_id}": webhook,
		"ANY /webhooks/chatwoot":               webhook, // → 405 from the handler
		"ANY /webhooks/chatwoot/{account_id}":  webhook,
		"GET /support/{proxy+}":                api,
	}
	routes := resourcesOfType(t, "AWS::ApiGatewayV2::Route")
	if len(routes) != len(want) {
		t.Errorf("%d routes, want %d", len(routes), len(want))
	}
	integrations := resourcesOfType(t, "AWS::ApiGatewayV2::Integration")
	seen := map[string]bool{}
	for id, r := range routes {
		p := r["Properties"].(M)
		key, _ := p["RouteKey"].(string)
		fn, ok := want[key]
		if !ok {
			t.Errorf("unexpected route %q (%s)", key, id)
			continue
		}
		seen[key] = true
		if p["AuthorizationType"] != "NONE" {
			// Auth happens in the functions (HMAC, bearer token).
			t.Errorf("%s: AuthorizationType %v", key, p["AuthorizationType"])
		}
		// Target is "integrations/<Ref>"; follow it to the Lambda.
		parts := p["Target"].(M)["Fn::Join"].([]interface{})[1].([]interface{})
		intID := parts[1].(M)["Ref"].(string)
		ip := integrations[intID]["Properties"].(M)
		if js(ip["IntegrationUri"]) != js(arnOf(fn)) {
			t.Errorf("%s integrates with %s, want %s", key, js(ip["IntegrationUri"]), fn)
		}
		if ip["IntegrationType"] != "AWS_PROXY" || ip["PayloadFormatVersion"] != "2.0" {
			t.Errorf("%s: integration %v / payload %v", key, ip["IntegrationType"], ip["PayloadFormatVersion"])
		}
	}
	for key := range want {
		if !seen[key] {
			t.Errorf("missing route %q", key)
		}
	}
}

func TestHTTPAPIStage(t *testing.T) {
	countIs(t, "AWS::ApiGatewayV2::Stage", 1)
	hasProps(t, "default stage", "AWS::ApiGatewayV2::Stage", M{
		"ApiId":      ref(logicalID(sup.HTTPAPI)),
		"StageName":  "$default",
		"AutoDeploy": true,
		"DefaultRouteSettings": M{
			"ThrottlingRateLimit":  ThrottleRateLimit,
			"ThrottlingBurstLimit": ThrottleBurstLimit,
		},
	})
	// Access logs go to a log group with a retention, as JSON lines.
	p := props(t, logicalID(sup.Stage))
	als, _ := p["AccessLogSettings"].(M)
	dest, _ := als["DestinationArn"].(M)
	ga, _ := dest["Fn::GetAtt"].([]interface{})
	if len(ga) != 2 {
		t.Fatalf("AccessLogSettings.DestinationArn = %v", als["DestinationArn"])
	}
	lg := resource(t, ga[0].(string))
	if lg["Type"] != "AWS::Logs::LogGroup" || lg["Properties"].(M)["RetentionInDays"] == nil {
		t.Errorf("access log destination %v", lg)
	}
	// The cost model prices an example line with the same keys.
	if f, _ := als["Format"].(string); keysOf(t, f) != keysOf(t, awscost.AccessLogExample) {
		t.Errorf("access log keys %s, cost model's %s", keysOf(t, f), keysOf(t, awscost.AccessLogExample))
	}
	if f, _ := als["Format"].(string); f == "" || f[0] != '{' {
		t.Errorf("access log format %q", f)
	}
}

func TestHTTPAPIInvokePermissions(t *testing.T) {
	// One permission per route, scoped to the API (no account-wide invoke).
	perms := resourcesOfType(t, "AWS::Lambda::Permission")
	count := map[string]int{}
	for _, r := range perms {
		p := r["Properties"].(M)
		if p["Principal"] != "apigateway.amazonaws.com" {
			continue
		}
		if p["SourceArn"] == nil {
			t.Errorf("API Gateway permission without SourceArn: %v", p)
		}
		count[js(p["FunctionName"])]++
	}
	if n := count[js(arnOf(logicalID(sup.Webhook)))]; n != 4 {
		t.Errorf("webhook has %d API permissions, want 4", n)
	}
	if n := count[js(arnOf(logicalID(sup.API)))]; n != 1 {
		t.Errorf("api has %d API permissions, want 1", n)
	}
	if len(count) != 2 {
		t.Errorf("API Gateway may invoke %d functions, want 2", len(count))
	}
}

func keysOf(t *testing.T, line string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	return strings.Join(slices.Sorted(maps.Keys(m)), ",")
}

// TestThrottling: the webhook routes carry the limits given by context (the
// shared test stack sets 1500/3000), far above the /support/* default.
func TestThrottling(t *testing.T) {
	p := props(t, logicalID(sup.Stage))
	if got := js(p["DefaultRouteSettings"]); got != `{"ThrottlingBurstLimit":100,"ThrottlingRateLimit":50}` {
		t.Errorf("default route settings = %s", got)
	}
	routes, _ := p["RouteSettings"].(M)
	for _, key := range []string{"POST /webhooks/chatwoot", "POST /webhooks/chatwoot/{account_id}", "ANY /webhooks/chatwoot", "ANY /webhooks/chatwoot/{account_id}"} {
		if got := js(routes[key]); got != `{"ThrottlingBurstLimit":3000,"ThrottlingRateLimit":1500}` {
			t.Errorf("%s throttling = %s", key, got)
		}
	}
	if _, ok := routes["GET /support/{proxy+}"]; ok {
		t.Error("the read API must keep the low default")
	}
}
