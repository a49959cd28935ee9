package stack

import (
	"go/ast"
	"go/parser"
	"go/token"
	"go/types"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"

	"supportpipe/internal/chatwoot/rest"
	"supportpipe/internal/runtime/compose"
)

// ---- stacks with a configuration file ----

// configured is a stack synthesized, and reviewed, with a configuration
// file of its own.
type configured struct {
	st   *SupportStack
	tmpl assertions.Template
	json M
	out  string // its cloud assembly's folder
}

var configuredStacks = map[string]*configured{}

// Configurations of the drafter the tests synthesize.
const (
	bedrockModelConfig = "drafting:\n  provider: bedrock\n  bedrock: {model_id: anthropic.claude-3-5-haiku-20241022-v1:0, region: us-west-2}\n"
	// The stack's Region, and a model timeout of 30 s.
	bedrockStackRegionConfig = "drafting:\n  provider: bedrock\n  timeout: 30s\n  bedrock: {model_id: amazon.nova-lite-v1:0}\n"
	bedrockProfileConfig     = "drafting:\n  provider: bedrock\n  bedrock: {model_id: eu.anthropic.claude-3-7-sonnet-20250219-v1:0, region: eu-central-1}\n"
	bedrockGlobalARNConfig   = "drafting:\n  provider: bedrock\n  bedrock: {model_id: \"" + globalProfileARN + "\"}\n"
	openAIConfig             = "drafting:\n  provider: openai\n  openai: {model: gpt-4o-mini}\n"

	globalProfileARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/global.anthropic.claude-sonnet-4-5-20250929-v1:0"
)

// withConfig builds, once per content, a stack whose supportConfig file
// holds yaml, with the review gate applied.
func withConfig(t *testing.T, yaml string) *configured {
	t.Helper()
	if c, ok := configuredStacks[yaml]; ok {
		return c
	}
	dir, err := os.MkdirTemp(testTmp, "configured-")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "support.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c := &configured{out: filepath.Join(dir, "cdk.out")}
	check(t, "synth with "+yaml, func() {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(c.out), Context: &map[string]interface{}{CtxSupportConfig: path}})
		c.st = NewSupportStack(app, StackName, &Props{DistDir: placeholderDist})
		Review(app)
		c.tmpl = assertions.Template_FromStack(c.st.Stack, nil)
		c.json = *c.tmpl.ToJSON()
	})
	if c.st == nil {
		t.FailNow()
	}
	configuredStacks[yaml] = c
	return c
}

// props returns the Properties of a resource of c's template.
func (c *configured) props(t *testing.T, construct constructs.IConstruct) M {
	t.Helper()
	return c.propsOf(t, c.logicalID(construct))
}

func (c *configured) propsOf(t *testing.T, id string) M {
	t.Helper()
	r, ok := c.json["Resources"].(M)[id].(M)
	if !ok {
		t.Fatalf("resource %s not in template", id)
	}
	p, _ := r["Properties"].(M)
	return p
}

func (c *configured) logicalID(construct constructs.IConstruct) string {
	el := construct.Node().DefaultChild().(awscdk.CfnElement)
	return *c.st.Stack.GetLogicalId(el)
}

// policy is the statements of fn's default role policy in c's template.
func (c *configured) policy(t *testing.T, fn awslambda.Function) []statement {
	t.Helper()
	child := fn.Role().Node().TryFindChild(jsii.String("DefaultPolicy"))
	if child == nil {
		t.Fatalf("role %s has no DefaultPolicy", *fn.Role().Node().Path())
	}
	doc, _ := c.propsOf(t, c.logicalID(child))["PolicyDocument"].(M)
	return statementsOf(doc)
}

// findings are the review gate's unsuppressed findings on stack.
func findings(stack awscdk.Stack) []string {
	ann := assertions.Annotations_FromStack(stack)
	any := assertions.Match_StringLikeRegexp(jsii.String(".*"))
	var found []string
	for _, m := range *ann.FindError(jsii.String("*"), any) {
		found = append(found, "error "+*m.Id+": "+js(m.Entry.Data))
	}
	for _, m := range *ann.FindWarning(jsii.String("*"), any) {
		found = append(found, "warning "+*m.Id+": "+js(m.Entry.Data))
	}
	sort.Strings(found)
	return found
}

// ---- the function and its trigger ----

func TestDrafterFunction(t *testing.T) {
	p := props(t, logicalID(sup.Drafter))
	// drafting.timeout's default, 10 s, and the overhead: 90 s.
	if to := num(t, p["Timeout"], "Timeout"); to != 90 {
		t.Errorf("drafter Timeout = %v s, want 10 + %d = 90", to, DrafterOverheadSeconds)
	}
	if mem := num(t, p["MemorySize"], "MemorySize"); mem != DrafterMemoryMB {
		t.Errorf("drafter MemorySize = %v", mem)
	}
	vars := p["Environment"].(M)["Variables"].(M)
	for k, want := range map[string]M{
		"SUPPORT_DRAFTS_QUEUE_URL": ref(logicalID(sup.Drafts)),
		"SUPPORT_DRAFTS_DLQ_URL":   ref(logicalID(sup.DraftsDLQ)),
	} {
		if got := js(vars[k]); got != js(want) {
			t.Errorf("%s = %s, want %s", k, got, js(want))
		}
	}
	// No OpenAI key by default, anywhere.
	for name, fn := range sup.Functions() {
		if _, has := props(t, logicalID(fn))["Environment"].(M)["Variables"].(M)["OPENAI_API_KEY_ARN"]; has {
			t.Errorf("%s has OPENAI_API_KEY_ARN without provider openai", name)
		}
	}
}

func TestDrafterEventSource(t *testing.T) {
	hasProps(t, "drafter ← drafts queue", "AWS::Lambda::EventSourceMapping", M{
		"EventSourceArn":        arnOf(logicalID(sup.Drafts)),
		"FunctionName":          ref(logicalID(sup.Drafter)),
		"BatchSize":             5,
		"FunctionResponseTypes": A{"ReportBatchItemFailures"},
		"ScalingConfig":         M{"MaximumConcurrency": 5},
	})
	// No batching window: a request does not wait for others.
	for id, r := range resourcesOfType(t, "AWS::Lambda::EventSourceMapping") {
		p := r["Properties"].(M)
		if js(p["FunctionName"]) != js(ref(logicalID(sup.Drafter))) {
			continue
		}
		if w, has := p["MaximumBatchingWindowInSeconds"]; has && w != float64(0) {
			t.Errorf("%s: MaximumBatchingWindowInSeconds = %v", id, w)
		}
	}
}

// TestDrafterTimeoutBudget: the constants the drafter's timeout is made of
// are the ones of the code they bound.
func TestDrafterTimeoutBudget(t *testing.T) {
	var backoff time.Duration
	for _, d := range rest.DefaultBackoff[:rest.DefaultMaxAttempts-1] {
		backoff += d
	}
	if call := time.Duration(rest.DefaultMaxAttempts)*rest.DefaultTimeout + backoff; call != ChatwootCallSeconds*time.Second {
		t.Errorf("a Chatwoot call takes %v at worst with the client's defaults, ChatwootCallSeconds says %d s", call, ChatwootCallSeconds)
	}
	// A batch runs at once, so the timeout is one request's.
	if DrafterBatchSize != compose.DrafterConcurrency {
		t.Errorf("DrafterBatchSize %d != compose.DrafterConcurrency %d", DrafterBatchSize, compose.DrafterConcurrency)
	}
}

// TestChatwootInstancesFollowTheEventSources: lambdaenv divides Chatwoot's
// rate among the instances the event sources may run at once.
func TestChatwootInstancesFollowTheEventSources(t *testing.T) {
	const file = "../../internal/runtime/lambdaenv/lambdaenv.go"
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got *types.TypeAndValue
	ast.Inspect(f, func(n ast.Node) bool {
		spec, ok := n.(*ast.ValueSpec)
		if !ok || len(spec.Names) != 1 || spec.Names[0].Name != "chatwootInstances" || len(spec.Values) != 1 {
			return true
		}
		tv, err := types.Eval(fset, nil, token.NoPos, types.ExprString(spec.Values[0]))
		if err != nil {
			t.Fatalf("chatwootInstances: %v", err)
		}
		got = &tv
		return false
	})
	if got == nil || got.Value == nil {
		t.Fatalf("no constant chatwootInstances in %s", file)
	}
	if want := ProcessorMaxConcurrency + DrafterMaxConcurrency; got.Value.String() != strconv.Itoa(want) {
		t.Errorf("lambdaenv's chatwootInstances = %s, want ProcessorMaxConcurrency + DrafterMaxConcurrency = %d", got.Value, want)
	}
}

// TestDraftsVisibilityFollowsTheDrafter: the drafts queue hides a batch for
// VisibilityFactor × the drafter's timeout, which follows drafting.timeout.
func TestDraftsVisibilityFollowsTheDrafter(t *testing.T) {
	vis := num(t, props(t, logicalID(sup.Drafts))["VisibilityTimeout"], "VisibilityTimeout")
	to := num(t, props(t, logicalID(sup.Drafter))["Timeout"], "drafter Timeout")
	if vis != VisibilityFactor*to {
		t.Errorf("drafts VisibilityTimeout %v s, want %d × drafter timeout %v s", vis, VisibilityFactor, to)
	}
	c := withConfig(t, bedrockStackRegionConfig) // timeout: 30s
	to = num(t, c.props(t, c.st.Drafter)["Timeout"], "drafter Timeout")
	vis = num(t, c.props(t, c.st.Drafts)["VisibilityTimeout"], "VisibilityTimeout")
	if to != 30+DrafterOverheadSeconds || vis != VisibilityFactor*to {
		t.Errorf("with timeout 30s: drafter timeout %v s, visibility %v s; want %d and %d", to, vis,
			30+DrafterOverheadSeconds, VisibilityFactor*(30+DrafterOverheadSeconds))
	}
}

// TestDraftsDLQWiring: the queue's redrive catches what the drafter's own
// retries miss, the drafter moves what it gives up on, and the URL is out.
func TestDraftsDLQWiring(t *testing.T) {
	rp := props(t, logicalID(sup.Drafts))["RedrivePolicy"].(M)
	if js(rp["deadLetterTargetArn"]) != js(arnOf(logicalID(sup.DraftsDLQ))) || num(t, rp["maxReceiveCount"], "maxReceiveCount") <= 3 {
		t.Errorf("drafts RedrivePolicy = %s", js(rp))
	}
	if !allowed(rolePolicy(t, sup.Drafter), "sqs:SendMessage", js(arnOf(logicalID(sup.DraftsDLQ)))) {
		t.Error("the drafter may not send to the drafts DLQ")
	}
	outs := tjson["Outputs"].(M)
	if got := js(outs["DraftsDlqUrl"].(M)["Value"]); got != js(ref(logicalID(sup.DraftsDLQ))) {
		t.Errorf("DraftsDlqUrl = %s", got)
	}
	if _, ok := sup.Alarms["DraftsDlqNotEmptyAlarm"]; !ok {
		t.Error("no DraftsDlqNotEmptyAlarm")
	}
}

// ---- Bedrock ----

// bedrockStatements are fn's statements that name a bedrock action.
func bedrockStatements(stmts []statement) []string {
	var out []string
	for _, s := range stmts {
		if len(actionsFor([]statement{s}, "bedrock")) > 0 {
			out = append(out, js(M{"actions": s.actions, "resources": s.resources, "conditions": s.conditions}))
		}
	}
	sort.Strings(out)
	return out
}

func bedrockStatement(resources []interface{}, conditions string) string {
	var rs []string
	for _, r := range resources {
		rs = append(rs, js(r))
	}
	return js(M{"actions": []string{"bedrock:InvokeModel"}, "resources": rs, "conditions": conditions})
}

// partitionJoin is Fn::Join of "arn:", the partition and the rest.
func partitionJoin(rest ...interface{}) M {
	return M{"Fn::Join": A{"", append(A{"arn:", M{"Ref": "AWS::Partition"}}, rest...)}}
}

func TestBedrockOnlyWhenConfigured(t *testing.T) {
	for id, r := range resourcesOfType(t, "AWS::IAM::Policy") {
		if strings.Contains(js(r), "bedrock") {
			t.Errorf("%s mentions bedrock with the retrieval provider", id)
		}
	}
	profile := partitionJoin(":bedrock:eu-central-1:", M{"Ref": "AWS::AccountId"},
		":inference-profile/eu.anthropic.claude-3-7-sonnet-20250219-v1:0")
	cases := []struct {
		name, config string
		want         []string
	}{
		{"foundation model in its region", bedrockModelConfig, []string{bedrockStatement(A{
			partitionJoin(":bedrock:us-west-2::foundation-model/anthropic.claude-3-5-haiku-20241022-v1:0"),
		}, "")}},
		{"foundation model in the stack's region", bedrockStackRegionConfig, []string{bedrockStatement(A{
			partitionJoin(":bedrock:", M{"Ref": "AWS::Region"}, "::foundation-model/amazon.nova-lite-v1:0"),
		}, "")}},
		{"cross-Region inference profile", bedrockProfileConfig, []string{
			bedrockStatement(A{profile}, ""),
			bedrockStatement(A{partitionJoin(":bedrock:*::foundation-model/anthropic.claude-3-7-sonnet-20250219-v1:0")},
				js(M{"ArnEquals": M{"bedrock:InferenceProfileArn": profile}})),
		}},
		{"global inference profile by ARN", bedrockGlobalARNConfig, []string{
			bedrockStatement(A{globalProfileARN}, ""),
			bedrockStatement(A{
				"arn:aws:bedrock:*::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
				"arn:aws:bedrock:::foundation-model/anthropic.claude-sonnet-4-5-20250929-v1:0",
			}, js(M{"ArnEquals": M{"bedrock:InferenceProfileArn": globalProfileARN}})),
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := withConfig(t, tc.config)
			want := slices.Clone(tc.want)
			sort.Strings(want)
			if got := bedrockStatements(c.policy(t, c.st.Drafter)); !slices.Equal(got, want) {
				t.Errorf("drafter's bedrock statements:\n got %v\nwant %v", got, want)
			}
			for name, fn := range c.st.Functions() {
				if name != "drafter" && len(bedrockStatements(c.policy(t, fn))) > 0 {
					t.Errorf("%s may call Bedrock", name)
				}
			}
			// The model's tokens are on the dashboard.
			if body := js(c.props(t, c.st.Dashboard)["DashboardBody"]); !strings.Contains(body, "draft_input_tokens") {
				t.Error("dashboard lacks the model's tokens")
			}
		})
	}
}

func TestParseBedrockModel(t *testing.T) {
	for id, want := range map[string]bedrockModel{
		"anthropic.claude-3-5-haiku-20241022-v1:0":                                          {kind: foundationModel},
		"us.anthropic.claude-3-5-haiku-20241022-v1:0":                                       {kind: systemProfile, model: "anthropic.claude-3-5-haiku-20241022-v1:0"},
		"apac.amazon.nova-pro-v1:0":                                                         {kind: systemProfile, model: "amazon.nova-pro-v1:0"},
		"us-gov.anthropic.claude-3-haiku-20240307-v1:0":                                     {kind: systemProfile, model: "anthropic.claude-3-haiku-20240307-v1:0"},
		"global.anthropic.claude-sonnet-4-20250514-v1:0":                                    {kind: systemProfile, model: "anthropic.claude-sonnet-4-20250514-v1:0", global: true},
		"arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0":                 {kind: otherARN, partition: "aws"},
		"arn:aws:bedrock:eu-west-1:123456789012:inference-profile/eu.amazon.nova-lite-v1:0": {kind: profileARN, model: "amazon.nova-lite-v1:0", partition: "aws"},
		"arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123":       {kind: applicationProfileARN, partition: "aws"},
	} {
		got, err := parseBedrockModel(id)
		want.id = id
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", id, got, err, want)
		}
	}
	for _, id := range []string{"anthropic.*", "arn:aws:s3:::bucket/key", "arn:aws:bedrock:*::foundation-model/x", "a model"} {
		if _, err := parseBedrockModel(id); err == nil {
			t.Errorf("%s accepted", id)
		}
	}
}

// ---- OpenAI ----

func TestOpenAIKeyOnlyWhenConfigured(t *testing.T) {
	countIs(t, "AWS::SecretsManager::Secret", 3) // none for the key by default
	c := withConfig(t, openAIConfig)
	if c.st.OpenAIKey == nil {
		t.Fatal("no OpenAI key secret with provider openai")
	}
	key := js(ref(c.logicalID(c.st.OpenAIKey)))
	if n := len(*c.tmpl.FindResources(jsii.String("AWS::SecretsManager::Secret"), nil)); n != 4 {
		t.Errorf("%d secrets, want 4", n)
	}
	for name, fn := range c.st.Functions() {
		v, has := c.props(t, fn)["Environment"].(M)["Variables"].(M)["OPENAI_API_KEY_ARN"]
		reads := allowed(c.policy(t, fn), "secretsmanager:GetSecretValue", key)
		if name == "drafter" {
			if js(v) != key || !reads {
				t.Errorf("drafter: OPENAI_API_KEY_ARN = %s (want %s), may read it: %v", js(v), key, reads)
			}
			continue
		}
		if has || slices.Contains(resourcesFor(c.policy(t, fn), "secretsmanager"), key) {
			t.Errorf("%s is given the OpenAI key (env %v)", name, has)
		}
	}
}

// ---- the knowledge file ----

const knowledgeYAML = `- short_code: refund_status
  content: "Your refund is on its way."
  examples: ["where is my refund"]
`

// assetFiles lists the files of fn's code asset in the cloud assembly out
// (relative, slash-separated), with their contents.
func assetFiles(t *testing.T, out string, code M) map[string]string {
	t.Helper()
	key, _ := code["S3Key"].(string)
	hash := strings.TrimSuffix(key, ".zip")
	if hash == "" || hash == key {
		t.Fatalf("code is not a zipped asset: %s", js(code))
	}
	dir := filepath.Join(out, "asset."+hash)
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		if rel == "bootstrap" {
			if fi, _ := d.Info(); fi == nil || fi.Mode().Perm()&0o111 == 0 {
				t.Errorf("%s is not executable", p)
			}
		}
		return err
	})
	if err != nil {
		t.Fatalf("asset of %s: %v", js(code), err)
	}
	return files
}

// TestKnowledgeBundledIntoDrafterCode: a knowledge file named by the
// configuration is in the drafter's code at its relative path, where the
// drafter opens it (/var/task/<path>); without one the code is the plain
// dist/drafter.
func TestKnowledgeBundledIntoDrafterCode(t *testing.T) {
	bootstrap, err := os.ReadFile(filepath.Join(placeholderDist, "drafter", "bootstrap"))
	if err != nil {
		t.Fatal(err)
	}
	plain := assetFiles(t, filepath.Join(testTmp, "cdk.out"), props(t, logicalID(sup.Drafter))["Code"].(M))
	if want := map[string]string{"bootstrap": string(bootstrap)}; !mapsEqual(plain, want) {
		t.Errorf("drafter code without knowledge: %v", keys(plain))
	}

	wd := t.TempDir()
	t.Chdir(wd)
	if err := os.MkdirAll("kb", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("kb/faq.yaml", []byte(knowledgeYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile("support.yaml", []byte("drafting: {knowledge: ./kb/faq.yaml}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(wd, "cdk.out")
	var st *SupportStack
	var tm assertions.Template
	check(t, "synth with a knowledge file", func() {
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(out), Context: &map[string]interface{}{CtxSupportConfig: "support.yaml"}})
		st = NewSupportStack(app, "KnowledgeStack", &Props{DistDir: placeholderDist})
		Review(app)
		tm = assertions.Template_FromStack(st.Stack, nil)
	})
	if st == nil {
		t.FailNow()
	}
	if st.Config.Knowledge != "kb/faq.yaml" {
		t.Errorf("Knowledge = %q, want the clean relative path", st.Config.Knowledge)
	}
	res := (*tm.ToJSON())["Resources"].(M)
	drafter := res[*st.Stack.GetLogicalId(st.Drafter.Node().DefaultChild().(awscdk.CfnElement))].(M)
	got := assetFiles(t, out, drafter["Properties"].(M)["Code"].(M))
	if want := map[string]string{"bootstrap": string(bootstrap), "kb/faq.yaml": knowledgeYAML}; !mapsEqual(got, want) {
		t.Errorf("drafter code with knowledge: %v, want bootstrap and kb/faq.yaml with their contents", keys(got))
	}
	// The other functions keep their plain code: the same asset as in the
	// shared stack (CDK stages an asset once per process, so it is not
	// copied into this assembly again).
	processor := res[*st.Stack.GetLogicalId(st.Processor.Node().DefaultChild().(awscdk.CfnElement))].(M)
	if got, want := js(processor["Properties"].(M)["Code"]), js(props(t, logicalID(sup.Processor))["Code"]); got != want {
		t.Errorf("processor code %s, want the plain %s", got, want)
	}
	for _, f := range findings(st.Stack) {
		t.Error(f)
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func keys(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestDraftingCheckedAtSynth: a knowledge file the drafter could not open
// on Lambda, a model timeout Lambda cannot give, or a Bedrock model IAM
// cannot name fails the synth with one line naming it.
func TestDraftingCheckedAtSynth(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "kb.yaml")
	if err := os.WriteFile(outside, []byte(knowledgeYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	wd := t.TempDir()
	t.Chdir(wd)
	for name, content := range map[string]string{
		"kb/faq.yaml":    knowledgeYAML,
		"kb/broken.yaml": "- short_code: refund_status\n  content: \"\"\n",
	} {
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		drafting string
		want     []string
	}{
		{`{knowledge: kb/missing.yaml}`, []string{"drafting.knowledge kb/missing.yaml", "not found"}},
		{`{knowledge: "` + outside + `"}`, []string{"drafting.knowledge " + outside, "absolute path outside"}},
		{`{knowledge: "` + filepath.Join(wd, "kb", "faq.yaml") + `"}`, []string{"absolute path", "relative to", "kb/faq.yaml"}},
		{`{knowledge: ../kb.yaml}`, []string{"drafting.knowledge ../kb.yaml", "outside"}},
		{`{knowledge: kb}`, []string{"drafting.knowledge kb", "not a regular file"}},
		{`{knowledge: kb/broken.yaml}`, []string{"drafting.knowledge kb/broken.yaml", "content is empty"}},
		{`{timeout: 15m}`, []string{"drafting.timeout", "900 s"}},
		{`{provider: bedrock, bedrock: {model_id: "arn:aws:s3:::bucket/key"}}`, []string{"drafting.bedrock.model_id"}},
	} {
		if err := os.WriteFile("support.yaml", []byte("drafting: "+tc.drafting+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(t.TempDir()), Context: &map[string]interface{}{CtxSupportConfig: "support.yaml"}})
		_, err := LoadConfig(app.Node())
		if err == nil {
			t.Errorf("drafting: %s accepted", tc.drafting)
			continue
		}
		msg := err.Error()
		if strings.Contains(msg, "\n") || !strings.Contains(msg, "-c supportConfig=support.yaml") {
			t.Errorf("drafting: %s: want one line naming the file, got %q", tc.drafting, msg)
		}
		for _, w := range tc.want {
			if !strings.Contains(msg, w) {
				t.Errorf("drafting: %s: %q lacks %q", tc.drafting, msg, w)
			}
		}
	}
}

// ---- the review gate in each configuration ----

func TestReviewEachConfiguration(t *testing.T) {
	for _, cfg := range []string{bedrockModelConfig, bedrockStackRegionConfig, bedrockProfileConfig, bedrockGlobalARNConfig, openAIConfig} {
		c := withConfig(t, cfg)
		for _, f := range findings(c.st.Stack) {
			t.Errorf("with %q: %s", cfg, f)
		}
	}
}
