package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// Review applies the AWS review gate to scope: cdk-nag's AwsSolutions and
// Serverless packs. A finding is an error or warning annotation on the
// resource; `cdk synth --strict` (make synth) fails on either, and the
// template tests assert there is none. Each suppression sits next to the
// resource it excuses, with its reason (suppress).
func Review(scope constructs.IConstruct) {
	props := &cdknag.NagPackProps{Verbose: jsii.Bool(true), Reports: jsii.Bool(false)}
	awscdk.Aspects_Of(scope).Add(cdknag.NewAwsSolutionsChecks(props), nil)
	awscdk.Aspects_Of(scope).Add(cdknag.NewServerlessChecks(props), nil)
}

// suppress excuses c (and its children) from the rule ids, for reason.
func suppress(c constructs.IConstruct, reason string, ids ...string) {
	var s []*cdknag.NagPackSuppression
	for _, id := range ids {
		s = append(s, &cdknag.NagPackSuppression{Id: jsii.String(id), Reason: jsii.String(reason)})
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &s, jsii.Bool(true))
}

// suppressFinding excuses c (and its children) from the findings of rule id
// that match the regular expression appliesTo (e.g. one wildcard resource
// of IAM5), for reason; the rule's other findings still count.
func suppressFinding(c constructs.IConstruct, reason, id, appliesTo string) {
	s := []*cdknag.NagPackSuppression{{
		Id: jsii.String(id), Reason: jsii.String(reason),
		AppliesTo: &[]interface{}{&cdknag.RegexAppliesTo{Regex: jsii.String(appliesTo)}},
	}}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &s, jsii.Bool(true))
}
