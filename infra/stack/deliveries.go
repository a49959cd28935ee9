package stack

import (
	"github.com/aws/aws-cdk-go/awscdk/v2/awsiam"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/jsii-runtime-go"
)

// deliveryLog lets fn put the delivery log's items (dynamostore: the time
// line's DLOG#… and a conversation's DLV#…), and no others: the webhook
// function logs the authentic webhooks it answers without queueing them
// (docs/deliveries.md).
func (s *SupportStack) deliveryLog(fn awslambda.Function) {
	fn.AddToRolePolicy(awsiam.NewPolicyStatement(&awsiam.PolicyStatementProps{
		Actions:   jsii.Strings("dynamodb:PutItem"),
		Resources: jsii.Strings(*s.Table.TableArn()),
		Conditions: &map[string]interface{}{
			"ForAllValues:StringLike": map[string]interface{}{"dynamodb:LeadingKeys": []string{"DLOG#*", "DLV#*"}},
		},
	}))
}
