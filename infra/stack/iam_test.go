package stack

import (
	"regexp"
	"slices"
	"testing"

	"github.com/aws/jsii-runtime-go"
)

// serviceWildcard matches "service:*" (and "*:*").
var serviceWildcard = regexp.MustCompile(`^[A-Za-z0-9*-]+:\*$`)

// TestNoWildcardActions walks every IAM policy in the template.
func TestNoWildcardActions(t *testing.T) {
	policies := resourcesOfType(t, "AWS::IAM::Policy")
	if len(policies) == 0 {
		t.Fatal("no AWS::IAM::Policy resources found")
	}
	for id, r := range policies {
		doc, _ := r["Properties"].(M)["PolicyDocument"].(M)
		stmts := statementsOf(doc)
		if len(stmts) == 0 {
			t.Errorf("%s: empty policy", id)
		}
		for _, s := range stmts {
			for _, a := range s.actions {
				if a == "*" || serviceWildcard.MatchString(a) {
					t.Errorf("%s: wildcard action %q", id, a)
				}
			}
			// X-Ray's trace writes support no resource-level permissions;
			// nothing else may name Resource "*".
			xray := slices.Equal(s.actions, []string{"xray:PutTraceSegments", "xray:PutTelemetryRecords"})
			if slices.Contains(s.resources, `"*"`) && !xray {
				t.Errorf("%s: statement on Resource \"*\" (%v)", id, s.actions)
			}
		}
	}
	// Roles carry no inline or managed policies: each function writes its
	// own log group only (the managed AWSLambdaBasicExecutionRole would let
	// it write any).
	for id, r := range resourcesOfType(t, "AWS::IAM::Role") {
		p := r["Properties"].(M)
		if _, has := p["Policies"]; has {
			t.Errorf("%s: inline role policies", id)
		}
		if arns, has := p["ManagedPolicyArns"]; has {
			t.Errorf("%s: managed policies %s", id, js(arns))
		}
	}
}

// TestLogsScopedToOwnLogGroup: a function's log permissions name its own
// log group and nothing else.
func TestLogsScopedToOwnLogGroup(t *testing.T) {
	for name, fn := range sup.Functions() {
		logGroup := js(getAtt(logicalIDOfChild(t, name), "Arn"))
		if got := resourcesFor(rolePolicy(t, fn), "logs"); !slices.Equal(got, []string{logGroup}) {
			t.Errorf("%s writes logs to %v, want only %s", name, got, logGroup)
		}
	}
}

// logicalIDOfChild is the logical id of a function's log group.
func logicalIDOfChild(t *testing.T, name string) string {
	t.Helper()
	lg := sup.Stack.Node().TryFindChild(jsii.String(constructID(name) + "Logs"))
	if lg == nil {
		t.Fatalf("no log group for %s", name)
	}
	return logicalID(lg)
}

type grantCase struct {
	action, resource string
}

func (s *SupportStack) ids() (queue, dlq, drafts, draftsDLQ, table, bucket string) {
	return logicalID(s.Queue), logicalID(s.DLQ), logicalID(s.Drafts), logicalID(s.DraftsDLQ), logicalID(s.Table), logicalID(s.Bucket)
}

// expectGrants checks allowed actions, forbidden actions and, per service,
// the exact set of resources the function can reach.
func expectGrants(t *testing.T, name string, allow, deny []grantCase, reach map[string][]string) {
	t.Helper()
	stmts := rolePolicy(t, sup.Functions()[name])
	for _, g := range allow {
		if !allowed(stmts, g.action, g.resource) {
			t.Errorf("%s may not %s on %s", name, g.action, g.resource)
		}
	}
	for _, g := range deny {
		if allowed(stmts, g.action, g.resource) {
			t.Errorf("%s may %s on %s (should not)", name, g.action, g.resource)
		}
	}
	for _, service := range []string{"sqs", "s3", "dynamodb", "secretsmanager", "sns", "kms", "bedrock"} {
		got := resourcesFor(stmts, service)
		want := reach[service]
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s reaches %s resources %v, want %v", name, service, got, want)
		}
	}
}

func TestLeastPrivilege(t *testing.T) {
	queue, dlq, drafts, draftsDLQ, table, bucket := sup.ids()
	q, d, dr, drd := js(arnOf(queue)), js(arnOf(dlq)), js(arnOf(drafts)), js(arnOf(draftsDLQ))
	tbl, idx := js(arnOf(table)), js(arnWithSuffix(table, "/index/gsi1"))
	spool, reports := js(arnWithSuffix(bucket, "/spool/*")), js(arnWithSuffix(bucket, "/reports/*"))
	claims := js(arnWithSuffix(bucket, "/claims/*"))
	bkt := js(arnOf(bucket))
	whSecret := js(ref(logicalID(sup.WebhookSecret)))
	cwToken := js(ref(logicalID(sup.ChatwootToken)))
	apiToken := js(ref(logicalID(sup.APIToken)))
	anyObject := js(arnWithSuffix(bucket, "/*"))

	t.Run("webhook", func(t *testing.T) {
		expectGrants(t, "webhook",
			[]grantCase{
				{"sqs:SendMessage", q},
				{"sqs:SendMessage", d},
				{"s3:PutObject", spool},
				{"s3:PutObject", claims},
				{"dynamodb:UpdateItem", tbl},
				{"dynamodb:PutItem", tbl},
				{"secretsmanager:GetSecretValue", whSecret},
			},
			[]grantCase{
				{"sqs:ReceiveMessage", q},
				{"sqs:ReceiveMessage", d},
				{"s3:PutObject", reports},
				{"s3:PutObject", anyObject},
				{"s3:GetObject", spool},
				{"s3:GetObject", claims},
				{"dynamodb:GetItem", tbl},
				{"dynamodb:Query", tbl},
				{"dynamodb:Scan", tbl},
				{"dynamodb:DeleteItem", tbl},
				{"dynamodb:BatchWriteItem", tbl},
			},
			map[string][]string{
				"sqs":            {q, d},
				"s3":             {spool, claims},
				"dynamodb":       {tbl},
				"secretsmanager": {whSecret},
			})
		// The internet-facing function updates its counters and marks, no
		// other items.
		var conds []string
		for _, st := range rolePolicy(t, sup.Webhook) {
			if slices.Contains(st.actions, "dynamodb:UpdateItem") {
				conds = append(conds, st.conditions)
			}
		}
		if want := `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["COUNTERS#*","MARK#*"]}}`; !slices.Equal(conds, []string{want}) {
			t.Errorf("webhook table writes are conditioned on %v, want %s", conds, want)
		}
		// It puts the delivery log's entries of the webhooks it does not
		// queue, and no other items.
		conds = nil
		for _, st := range rolePolicy(t, sup.Webhook) {
			if slices.Contains(st.actions, "dynamodb:PutItem") {
				conds = append(conds, st.conditions)
			}
		}
		if want := `{"ForAllValues:StringLike":{"dynamodb:LeadingKeys":["DLOG#*","DLV#*"]}}`; !slices.Equal(conds, []string{want}) {
			t.Errorf("webhook table puts are conditioned on %v, want %s", conds, want)
		}
	})
	for name, fn := range sup.Functions() {
		for _, a := range []string{"dynamodb:DeleteItem", "dynamodb:Scan", "dynamodb:BatchWriteItem"} {
			if allowed(rolePolicy(t, fn), a, tbl) {
				t.Errorf("%s may %s", name, a)
			}
		}
	}
	sched := js(arnOf(logicalID(sup.ScheduledFailures)))
	t.Run("processor", func(t *testing.T) {
		expectGrants(t, "processor",
			[]grantCase{
				{"sqs:ReceiveMessage", q},
				{"sqs:DeleteMessage", q},
				{"sqs:ChangeMessageVisibility", q},
				{"sqs:SendMessage", d},
				{"sqs:SendMessage", dr},
				{"dynamodb:GetItem", tbl},
				{"dynamodb:Query", idx},
				{"dynamodb:UpdateItem", tbl},
				{"dynamodb:ConditionCheckItem", tbl},
				{"s3:GetObject", claims},
				{"s3:DeleteObject", claims},
				{"secretsmanager:GetSecretValue", cwToken},
			},
			[]grantCase{
				{"sqs:ReceiveMessage", d},
				{"sqs:PurgeQueue", q},
				{"s3:PutObject", claims},
				{"s3:GetObject", spool},
				{"secretsmanager:GetSecretValue", whSecret},
				{"secretsmanager:GetSecretValue", apiToken},
			},
			map[string][]string{
				"sqs":            {q, d, dr},
				"s3":             {claims},
				"dynamodb":       {tbl, idx},
				"secretsmanager": {cwToken},
			})
	})
	t.Run("drafter", func(t *testing.T) {
		expectGrants(t, "drafter",
			[]grantCase{
				{"sqs:ReceiveMessage", dr},
				{"sqs:DeleteMessage", dr},
				{"sqs:ChangeMessageVisibility", dr},
				{"sqs:SendMessage", drd},
				{"dynamodb:GetItem", tbl},
				{"dynamodb:BatchGetItem", tbl},
				{"dynamodb:Query", idx},
				{"dynamodb:PutItem", tbl},
				{"dynamodb:UpdateItem", tbl},
				{"dynamodb:ConditionCheckItem", tbl},
				{"secretsmanager:GetSecretValue", cwToken},
			},
			[]grantCase{
				{"sqs:SendMessage", dr},
				{"sqs:ReceiveMessage", drd},
				{"sqs:SendMessage", q},
				{"sqs:ReceiveMessage", q},
				{"s3:GetObject", claims},
				{"secretsmanager:GetSecretValue", whSecret},
				{"secretsmanager:GetSecretValue", apiToken},
			},
			map[string][]string{
				// No bedrock: the default provider is retrieval.
				"sqs":            {dr, drd},
				"dynamodb":       {tbl, idx},
				"secretsmanager": {cwToken},
			})
	})
	t.Run("report", func(t *testing.T) {
		expectGrants(t, "report",
			[]grantCase{
				{"dynamodb:GetItem", tbl},
				{"dynamodb:Query", idx},
				{"s3:PutObject", reports},
			},
			[]grantCase{
				{"dynamodb:PutItem", tbl},
				{"dynamodb:UpdateItem", tbl},
				{"s3:PutObject", spool},
				{"s3:DeleteObject", reports},
			},
			map[string][]string{
				"sqs":      {sched},
				"s3":       {reports},
				"dynamodb": {tbl, idx},
			})
	})
	t.Run("api", func(t *testing.T) {
		expectGrants(t, "api",
			[]grantCase{
				{"dynamodb:GetItem", tbl},
				{"dynamodb:Query", idx},
				{"sqs:GetQueueAttributes", q},
				{"sqs:GetQueueAttributes", d},
				{"s3:ListBucket", bkt},
				{"secretsmanager:GetSecretValue", apiToken},
				{"secretsmanager:GetSecretValue", cwToken},
			},
			[]grantCase{
				{"dynamodb:PutItem", tbl},
				{"sqs:SendMessage", q},
				{"sqs:ReceiveMessage", d},
				{"s3:GetObject", spool},
				{"secretsmanager:GetSecretValue", whSecret},
			},
			map[string][]string{
				"sqs":            {q, d},
				"s3":             {bkt},
				"dynamodb":       {tbl, idx},
				"secretsmanager": {apiToken, cwToken},
			})
		if acts := actionsFor(rolePolicy(t, sup.API), "sqs"); !slices.Equal(acts, []string{"sqs:GetQueueAttributes", "sqs:GetQueueAttributes"}) {
			t.Errorf("api sqs actions %v, want GetQueueAttributes only", acts)
		}
	})
	t.Run("sweeper", func(t *testing.T) {
		expectGrants(t, "sweeper",
			[]grantCase{
				{"sqs:SendMessage", q},
				{"sqs:GetQueueAttributes", q},
				{"sqs:GetQueueAttributes", d},
				{"sqs:SendMessage", d},
				{"s3:GetObject", spool},
				{"s3:PutObject", spool},
				{"s3:ListBucket", bkt},
				{"s3:DeleteObject", spool},
				{"s3:PutObject", claims},
				{"dynamodb:Query", idx},
				{"dynamodb:UpdateItem", tbl},
				{"secretsmanager:GetSecretValue", cwToken},
			},
			[]grantCase{
				{"s3:GetObject", reports},
				{"s3:DeleteObject", reports},
				{"s3:DeleteObject", claims},
				{"sqs:ReceiveMessage", q},
				{"secretsmanager:GetSecretValue", whSecret},
			},
			map[string][]string{
				"sqs":            {q, d, sched},
				"s3":             {bkt, spool, claims},
				"dynamodb":       {tbl, idx},
				"secretsmanager": {cwToken},
			})
	})
}

// TestListingIsScoped: a function that lists the bucket lists the spool's
// keys only, never the reports or the claim-checked bodies.
func TestListingIsScoped(t *testing.T) {
	for name, fn := range sup.Functions() {
		for _, st := range rolePolicy(t, fn) {
			if !slices.ContainsFunc(st.actions, func(a string) bool { return actionMatches(a, "s3:ListBucket") }) {
				continue
			}
			if want := `{"StringLike":{"s3:prefix":["spool/*"]}}`; st.conditions != want {
				t.Errorf("%s lists the bucket with conditions %q, want %s", name, st.conditions, want)
			}
		}
	}
}
