package stack

// Test harness: one jsii runtime and one synthesized SupportStack shared by
// every test in the package (a synth costs seconds; a Node restart more).
//
// CDK assertion failures are JavaScript exceptions that jsii turns into Go
// panics, and a panic would abort the whole test binary. Every assertion
// call therefore runs inside check(), which turns the panic into t.Errorf.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

var (
	sup   *SupportStack          // the stack under test (default context)
	tmpl  assertions.Template    // its synthesized template
	tjson map[string]interface{} // the same template as plain JSON
	// placeholderDist holds <name>/bootstrap placeholders for all functions.
	placeholderDist string
	// testTmp is the test binary's scratch folder, removed at the end.
	testTmp string
)

// testContext is the context of the shared test app (cdk -c key=value).
var testContext = map[string]interface{}{
	CtxChatwootBaseURL:   "https://chat.example.com",
	CtxChatwootAccountID: "42",
	CtxChatwootLive:      "true",
	CtxAlertsEmail:       "oncall@example.com",
	CtxWebhookRateLimit:  "1500",
	CtxWebhookBurstLimit: "3000",
	CtxEscalationsEmail:  "lead@example.com",
	// Props.DistDir must win over this.
	CtxDistDir: "/nonexistent/dist",
}

func TestMain(m *testing.M) {
	os.Setenv("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
	os.Exit(runTests(m))
}

func runTests(m *testing.M) (code int) {
	// Close the Node child exactly once, after all tests.
	defer jsii.Close()

	tmp, err := os.MkdirTemp("", "supportpipe-infra-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	testTmp = tmp
	placeholderDist = filepath.Join(tmp, "dist")
	if err := writePlaceholders(placeholderDist); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}

	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "building the test stack failed: %v\n", r)
			code = 1
		}
	}()
	// The shared stack sets every context key, so context handling is
	// checked on the same template; defaults are checked on LoadConfig.
	app := awscdk.NewApp(&awscdk.AppProps{
		Outdir:  jsii.String(filepath.Join(tmp, "cdk.out")),
		Context: &testContext,
	})
	sup = NewSupportStack(app, StackName, &Props{DistDir: placeholderDist})
	Review(app)
	tmpl = assertions.Template_FromStack(sup.Stack, nil)
	tjson = *tmpl.ToJSON()
	return m.Run()
}

// writePlaceholders creates dir/<name>/bootstrap for every function, each
// with distinct content so each function gets its own asset, as in a real build.
func writePlaceholders(dir string) error {
	for _, name := range FunctionNames {
		if err := os.MkdirAll(filepath.Join(dir, name), 0o755); err != nil {
			return err
		}
		body := []byte("#!/bin/sh\n# placeholder bootstrap for " + name + "\n")
		if err := os.WriteFile(filepath.Join(dir, name, "bootstrap"), body, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// check runs f and reports a panic (a failed CDK assertion) as a test error
// instead of letting it abort the test binary.
func check(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		if r := recover(); r != nil {
			t.Errorf("%s: %v", what, r)
		}
	}()
	f()
}

// M is a JSON object pattern.
type M = map[string]interface{}

// A is a JSON array pattern.
type A = []interface{}

func like(m M) assertions.Matcher { return assertions.Match_ObjectLike(&m) }

// arrayWith matches an array containing the given elements in order; object
// elements match object-like (Match.arrayWith alone compares them exactly).
func arrayWith(a ...interface{}) assertions.Matcher {
	for i, e := range a {
		if m, ok := e.(M); ok {
			a[i] = like(m)
		}
	}
	return assertions.Match_ArrayWith(&a)
}
func anyValue() assertions.Matcher { return assertions.Match_AnyValue() }

func ref(id string) M          { return M{"Ref": id} }
func getAtt(id, attr string) M { return M{"Fn::GetAtt": A{id, attr}} }
func arnOf(id string) M        { return getAtt(id, "Arn") }
func arnWithSuffix(id, suffix string) M {
	return M{"Fn::Join": A{"", A{arnOf(id), suffix}}}
}

// hasProps asserts a resource of type typ with (object-like) props exists.
func hasProps(t *testing.T, what, typ string, props M) {
	t.Helper()
	check(t, what, func() { tmpl.HasResourceProperties(jsii.String(typ), props) })
}

// countIs asserts how many resources of type typ the template has.
func countIs(t *testing.T, typ string, n int) {
	t.Helper()
	check(t, "count of "+typ, func() { tmpl.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n))) })
}

// logicalID is the template id of a construct's CloudFormation resource.
func logicalID(c constructs.IConstruct) string {
	el, ok := c.Node().DefaultChild().(awscdk.CfnElement)
	if !ok {
		panic(fmt.Sprintf("%s has no CfnElement default child", *c.Node().Path()))
	}
	return *sup.Stack.GetLogicalId(el)
}

// resource returns the template JSON of one resource by logical id.
func resource(t *testing.T, id string) M {
	t.Helper()
	res, _ := tjson["Resources"].(M)
	r, ok := res[id].(M)
	if !ok {
		t.Fatalf("resource %s not in template", id)
	}
	return r
}

// props returns the Properties of a resource by logical id.
func props(t *testing.T, id string) M {
	t.Helper()
	p, _ := resource(t, id)["Properties"].(M)
	return p
}

// resourcesOfType returns id → resource for every resource of type typ.
func resourcesOfType(t *testing.T, typ string) map[string]M {
	t.Helper()
	var out map[string]M
	check(t, "FindResources "+typ, func() {
		found := tmpl.FindResources(jsii.String(typ), nil)
		out = make(map[string]M, len(*found))
		for id, r := range *found {
			out[id] = M(*r)
		}
	})
	return out
}

// js is the canonical JSON of v, for comparing template fragments.
func js(v interface{}) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// num reads a JSON number.
func num(t *testing.T, v interface{}, what string) float64 {
	t.Helper()
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%s: want a number, got %#v", what, v)
	}
	return f
}

// ---- IAM helpers ----

// statement is one IAM statement, flattened for checks.
type statement struct {
	effect     string
	actions    []string
	resources  []string // canonical JSON of each resource
	conditions string   // canonical JSON of the Condition block, "" when none
}

func strOrList(v interface{}) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []interface{}:
		var out []string
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			} else {
				out = append(out, js(e))
			}
		}
		return out
	}
	return nil
}

func statementsOf(doc M) []statement {
	var out []statement
	list, _ := doc["Statement"].([]interface{})
	for _, raw := range list {
		st, _ := raw.(M)
		s := statement{effect: fmt.Sprint(st["Effect"]), actions: strOrList(st["Action"])}
		if c, ok := st["Condition"]; ok {
			s.conditions = js(c)
		}
		switch r := st["Resource"].(type) {
		case []interface{}:
			for _, e := range r {
				s.resources = append(s.resources, js(e))
			}
		case nil:
		default:
			s.resources = append(s.resources, js(r))
		}
		out = append(out, s)
	}
	return out
}

// rolePolicy returns the statements of the default policy CDK attaches to a
// function's role (where every grant lands).
func rolePolicy(t *testing.T, fn interface {
	Role() awsiam.IRole
}) []statement {
	t.Helper()
	child := fn.Role().Node().TryFindChild(jsii.String("DefaultPolicy"))
	if child == nil {
		t.Fatalf("role %s has no DefaultPolicy", *fn.Role().Node().Path())
	}
	id := logicalID(child)
	p := props(t, id)
	doc, _ := p["PolicyDocument"].(M)
	roles := js(p["Roles"])
	if !strings.Contains(roles, logicalID(fn.Role())) {
		t.Fatalf("policy %s is not attached to %s: %s", id, logicalID(fn.Role()), roles)
	}
	return statementsOf(doc)
}

// actionMatches reports whether an IAM action pattern (may contain *)
// covers action.
func actionMatches(pattern, action string) bool {
	re := "^" + strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, ".*") + "$"
	return regexp.MustCompile("(?i)" + re).MatchString(action)
}

// allowed reports whether stmts allow action on the resource (canonical JSON).
func allowed(stmts []statement, action, res string) bool {
	for _, s := range stmts {
		if s.effect != "Allow" {
			continue
		}
		okA := false
		for _, a := range s.actions {
			if actionMatches(a, action) {
				okA = true
				break
			}
		}
		if !okA {
			continue
		}
		for _, r := range s.resources {
			if r == res {
				return true
			}
		}
	}
	return false
}

// resourcesFor lists (sorted, unique) every resource that some statement
// grants an action of the given service on, e.g. "secretsmanager".
func resourcesFor(stmts []statement, service string) []string {
	seen := map[string]bool{}
	for _, s := range stmts {
		for _, a := range s.actions {
			if strings.HasPrefix(strings.ToLower(a), service+":") {
				for _, r := range s.resources {
					seen[r] = true
				}
			}
		}
	}
	out := make([]string, 0, len(seen))
	for r := range seen {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// actionsFor lists every action of a service the statements mention.
func actionsFor(stmts []statement, service string) []string {
	var out []string
	for _, s := range stmts {
		for _, a := range s.actions {
			if strings.HasPrefix(strings.ToLower(a), service+":") {
				out = append(out, a)
			}
		}
	}
	return out
}

func sortedJSON(vs ...M) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = js(v)
	}
	sort.Strings(out)
	return out
}
