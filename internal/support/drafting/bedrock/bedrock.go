// Package bedrock is the drafting model on Amazon Bedrock, through the
// Converse API: one model (its IAM permission can name just that model), no
// tools, temperature 0, a bounded reply, the usage reported as tokens.
package bedrock

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	"github.com/aws/aws-sdk-go-v2/service/bedrockruntime/types"

	"supportpipe/internal/support/drafting/llm"
)

// Client is the part of *bedrockruntime.Client the model uses.
type Client interface {
	Converse(ctx context.Context, in *bedrockruntime.ConverseInput, opts ...func(*bedrockruntime.Options)) (*bedrockruntime.ConverseOutput, error)
}

// Open returns the model named modelID on Bedrock, with the runtime's AWS
// configuration (nil: the default chain), in region when one is given.
func Open(ctx context.Context, given *aws.Config, region, modelID string) (llm.Model, error) {
	var ac aws.Config
	if given != nil {
		ac = given.Copy()
		if region != "" {
			ac.Region = region
		}
	} else {
		var opts []func(*awsconfig.LoadOptions) error
		if region != "" {
			opts = append(opts, awsconfig.WithRegion(region))
		}
		var err error
		if ac, err = awsconfig.LoadDefaultConfig(ctx, opts...); err != nil {
			return nil, fmt.Errorf("drafting: bedrock: AWS configuration: %w", err)
		}
	}
	if ac.Region == "" {
		return nil, errors.New("drafting: bedrock: no AWS region (set drafting.bedrock.region or AWS_REGION)")
	}
	return &Model{Client: bedrockruntime.NewFromConfig(ac), ModelID: modelID}, nil
}

// Model is a Bedrock model, named by its model id or inference profile.
type Model struct {
	Client  Client
	ModelID string
}

var _ llm.Model = (*Model)(nil)

// Complete implements llm.Model.
func (m *Model) Complete(ctx context.Context, p llm.Prompt, maxTokens int) (llm.Completion, error) {
	out, err := m.Client.Converse(ctx, &bedrockruntime.ConverseInput{
		ModelId: aws.String(m.ModelID),
		System:  []types.SystemContentBlock{&types.SystemContentBlockMemberText{Value: p.System}},
		Messages: []types.Message{{
			Role:    types.ConversationRoleUser,
			Content: []types.ContentBlock{&types.ContentBlockMemberText{Value: p.User}},
		}},
		InferenceConfig: &types.InferenceConfiguration{
			MaxTokens:   aws.Int32(int32(maxTokens)),
			Temperature: aws.Float32(0),
		},
	})
	if err != nil {
		return llm.Completion{}, fmt.Errorf("bedrock converse: %w", err)
	}
	var c llm.Completion
	if u := out.Usage; u != nil {
		c.InputTokens, c.OutputTokens = int(aws.ToInt32(u.InputTokens)), int(aws.ToInt32(u.OutputTokens))
	}
	switch out.StopReason {
	case types.StopReasonMaxTokens:
		c.Truncated = true
	case types.StopReasonGuardrailIntervened, types.StopReasonContentFiltered:
		// Bedrock's own filters stopped the reply: no draft, which is not
		// a failure of the model.
		return c, nil
	}
	msg, ok := out.Output.(*types.ConverseOutputMemberMessage)
	if !ok {
		return c, errors.New("bedrock converse: no message in the answer")
	}
	var b strings.Builder
	for _, block := range msg.Value.Content {
		if t, ok := block.(*types.ContentBlockMemberText); ok {
			b.WriteString(t.Value)
		}
	}
	c.Text = b.String()
	return c, nil
}
