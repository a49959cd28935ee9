// Command infra is the CDK app of the support pipeline. It synthesizes
// SupportStack into cdk.out; run it through the CDK CLI (cdk.json:
// "go run ./infra") from the repository root.
//
// The Lambda functions are prebuilt: dist/<name>/bootstrap for webhook,
// processor, drafter, report, api and sweeper (make build). DIST_DIR or -c distDir=DIR
// points at another folder (tests and CI synth use placeholders).
package main

import (
	"fmt"
	"os"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/jsii-runtime-go"

	"supportpipe/infra/stack"
)

func main() {
	os.Exit(run())
}

func run() int {
	// jsii runs aws-cdk-lib in a Node child process; close it on every path.
	defer jsii.Close()

	props := &awscdk.AppProps{}
	// Under the CDK CLI, CDK_OUTDIR is set and the App uses it. Run directly
	// (go run ./infra), write to cdk.out instead of a temp folder.
	if os.Getenv("CDK_OUTDIR") == "" {
		props.Outdir = jsii.String("cdk.out")
	}
	app := awscdk.NewApp(props)

	cfg, err := stack.LoadConfig(app.Node())
	if err == nil {
		err = stack.CheckBootstraps(cfg.DistDir)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "infra: %v\n", err)
		return 1
	}
	// No Env: the stack is environment-agnostic and synthesizes without
	// credentials; cdk deploy takes account and region from the profile.
	stack.NewSupportStack(app, stack.StackName, &stack.Props{DistDir: cfg.DistDir})
	// The AWS review gate: with `cdk synth --strict` (make synth) any
	// finding that is not suppressed next to its resource fails the synth.
	stack.Review(app)
	app.Synth(nil)
	return 0
}
