package stack

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"

	"supportpipe/internal/support/drafting"
)

// drafterTimeoutSeconds is the drafter's function timeout for the drafting
// configuration (see DrafterOverheadSeconds): whole seconds, as Lambda
// takes them.
func drafterTimeoutSeconds(d drafting.Config) int {
	return int(math.Ceil(d.Timeout.Seconds())) + DrafterOverheadSeconds
}

// drafterCode is the folder of the drafter's code: "" (the plain
// <dist>/drafter) unless the configuration names a knowledge file. The
// drafter opens that file as written, relative to its working directory,
// which on Lambda is /var/task, the code's root; so the code is then a
// folder made here, in the cloud assembly's directory: the bootstrap, and
// the file at its relative path. It is made anew on every synth, so it
// holds nothing from an earlier configuration.
func (s *SupportStack) drafterCode() string {
	if s.Config.Knowledge == "" {
		return ""
	}
	out, err := filepath.Abs(*awscdk.Stage_Of(s.Stack).Outdir())
	if err == nil {
		dir := filepath.Join(out, "drafter-code-"+*s.Stack.Node().Id())
		if err = bundle(dir, map[string]string{
			"bootstrap":        filepath.Join(s.Config.DistDir, "drafter", "bootstrap"),
			s.Config.Knowledge: s.Config.Knowledge,
		}); err == nil {
			return dir
		}
	}
	panic(fmt.Sprintf("SupportStack: the drafter's code with %s: %v", s.Config.Knowledge, err))
}

// bundle makes dir afresh with files (relative name in dir → source path).
func bundle(dir string, files map[string]string) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	for name, src := range files {
		dst := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := copyFile(dst, src); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies src to dst with src's permission bits (the bootstrap
// must stay executable).
func copyFile(dst, src string) (err error) {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	fi, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, fi.Mode().Perm())
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, out.Close()) }()
	_, err = io.Copy(out, in)
	return err
}

// Bedrock model references (drafting.bedrock.model_id), by what IAM must
// name for the Converse call on them. Converse is authorised by
// bedrock:InvokeModel on what the call names, and, for an inference
// profile, also on the foundation model in each Region the profile routes
// the call to.
type bedrockKind int

const (
	// foundationModel: a model id (anthropic.claude-3-5-haiku-…), invoked
	// in the drafter's Region (drafting.bedrock.region or the stack's).
	foundationModel bedrockKind = iota
	// systemProfile: a cross-Region inference profile id
	// (us.anthropic.claude-…), which the call names in the drafter's Region.
	systemProfile
	// profileARN: a cross-Region inference profile's full ARN.
	profileARN
	// applicationProfileARN: an application inference profile's ARN; the
	// model behind it was fixed when it was made and is not known here.
	applicationProfileARN
	// otherARN: any other full ARN (a foundation model in a Region of its
	// own, a provisioned or custom model): granted as given.
	otherARN
)

// profilePrefixes are the geographies of Bedrock's cross-Region inference
// profiles: an id that starts with one (us.anthropic.claude-…) names a
// profile that routes each call to the model (anthropic.claude-…) in one
// of that geography's Regions, or any commercial Region for global. A
// foundation model id starts with its vendor (anthropic., amazon., meta.),
// never with one of these.
var profilePrefixes = []string{"us", "us-gov", "eu", "apac", "jp", "au", "ca", "global"}

type bedrockModel struct {
	kind bedrockKind
	id   string // as configured
	// model is the foundation model a cross-Region profile routes to, and
	// global says the profile is global (every commercial Region).
	model  string
	global bool
	// partition of a full ARN ("aws", "aws-us-gov", …).
	partition string
}

// parseBedrockModel reads drafting.bedrock.model_id.
func parseBedrockModel(id string) (bedrockModel, error) {
	m := bedrockModel{id: strings.TrimSpace(id)}
	routed := func(profile string) bool {
		prefix, model, ok := strings.Cut(profile, ".")
		if !ok || model == "" || !slices.Contains(profilePrefixes, prefix) {
			return false
		}
		m.model, m.global = model, prefix == "global"
		return true
	}
	if !strings.HasPrefix(m.id, "arn:") {
		m.kind = foundationModel
		if routed(m.id) {
			m.kind = systemProfile
		}
		if strings.ContainsAny(m.id, "*?/ ") {
			return m, fmt.Errorf("drafting.bedrock.model_id: %q is not a model id, an inference profile id or an ARN", id)
		}
		return m, nil
	}
	// arn:partition:bedrock:region:account:type/name
	parts := strings.SplitN(m.id, ":", 6)
	if len(parts) < 6 || parts[1] == "" || parts[2] != "bedrock" || strings.ContainsAny(m.id, "*?") {
		return m, fmt.Errorf("drafting.bedrock.model_id: %q is not the ARN of a Bedrock model or inference profile", id)
	}
	m.partition = parts[1]
	typ, name, _ := strings.Cut(parts[5], "/")
	switch {
	case typ == "inference-profile" && routed(name):
		m.kind = profileARN
	case typ == "application-inference-profile":
		m.kind = applicationProfileARN
	default:
		m.kind = otherARN
	}
	return m, nil
}

// grantBedrock lets fn invoke exactly the configured model: the model, or
// the inference profile and the foundation model behind it through that
// profile only.
func (s *SupportStack) grantBedrock(fn awslambda.Function, b drafting.BedrockConfig) {
	m, err := parseBedrockModel(b.ModelID)
	if err != nil { // LoadConfig refused it already
		panic(fmt.Sprintf("SupportStack: %v", err))
	}
	var region *string // the stack's
	if b.Region != "" {
		region = jsii.String(b.Region)
	}
	arn := func(region, account *string, resource string) string {
		return *s.Stack.FormatArn(&awscdk.ArnComponents{
			Service: jsii.String("bedrock"), Region: region, Account: account, Resource: jsii.String(resource),
		})
	}
	invoke := func(resources []string, conditions map[string]interface{}) {
		props := &awsiam.PolicyStatementProps{Actions: jsii.Strings("bedrock:InvokeModel"), Resources: jsii.Strings(resources...)}
		if conditions != nil {
			props.Conditions = &conditions
		}
		fn.AddToRolePolicy(awsiam.NewPolicyStatement(props))
	}
	// through grants the foundation model in whichever Region profile
	// routes a call to, and only through that profile: the Regions are
	// the profile's to choose, and Bedrock adds to them.
	through := func(profile, partition, model, why string) {
		anyRegion := "arn:" + partition + ":bedrock:*::foundation-model/" + model
		resources := []string{anyRegion}
		if partition == "" {
			anyRegion = arn(jsii.String("*"), jsii.String(""), "foundation-model/"+model)
			resources = []string{anyRegion}
		}
		if m.global {
			// A global profile's calls are also authorised on the
			// Region-less ARN of the model.
			resources = append(resources, strings.Replace(anyRegion, ":bedrock:*::", ":bedrock:::", 1))
		}
		invoke(resources, map[string]interface{}{"ArnEquals": map[string]interface{}{"bedrock:InferenceProfileArn": profile}})
		suppressFinding(fn.Role(), why, "AwsSolutions-IAM5",
			`/^Resource::arn:(<AWS::Partition>|[a-z-]+):bedrock:\*::foundation-model\/`+regexp.QuoteMeta(model)+`$/`)
	}
	const routedWhy = "The model is called through the cross-Region inference profile " +
		"the configuration names, which routes each call to the model in one of its geography's Regions, a list Bedrock changes: " +
		"the statement names that one model, in any Region, only through that profile (bedrock:InferenceProfileArn)"
	switch m.kind {
	case foundationModel:
		invoke([]string{arn(region, jsii.String(""), "foundation-model/"+m.id)}, nil)
	case systemProfile:
		profile := arn(region, nil, "inference-profile/"+m.id)
		invoke([]string{profile}, nil)
		through(profile, "", m.model, routedWhy)
	case profileARN:
		invoke([]string{m.id}, nil)
		through(m.id, m.partition, m.model, routedWhy)
	case applicationProfileARN:
		invoke([]string{m.id}, nil)
		through(m.id, m.partition, "*", "An application inference profile's model was fixed when the profile was made and is not known here: "+
			"the statement holds only through the profile the configuration names (bedrock:InferenceProfileArn)")
	default:
		invoke([]string{m.id}, nil)
	}
}
