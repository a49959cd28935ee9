package stack

import (
	"sort"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
)

// TestReview: cdk-nag's AwsSolutions and Serverless packs find nothing
// that is not suppressed next to its resource with a reason.
func TestReview(t *testing.T) {
	ann := assertions.Annotations_FromStack(sup.Stack)
	any := assertions.Match_StringLikeRegexp(jsii.String(".*"))
	var found []string
	for _, m := range *ann.FindError(jsii.String("*"), any) {
		found = append(found, "error "+*m.Id+": "+js(m.Entry.Data))
	}
	for _, m := range *ann.FindWarning(jsii.String("*"), any) {
		found = append(found, "warning "+*m.Id+": "+js(m.Entry.Data))
	}
	sort.Strings(found)
	for _, f := range found {
		t.Error(f)
	}
}
