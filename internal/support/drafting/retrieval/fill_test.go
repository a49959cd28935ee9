package retrieval

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"supportpipe/internal/support/drafting"
)

func TestFill(t *testing.T) {
	r := drafting.Request{AccountID: 7, ConversationID: 1423,
		Contact: drafting.Person{Name: " Anna  Maria Freeman ", Email: "anna@example.com"},
		Agent:   drafting.Person{Name: "Sam"}}
	for content, want := range map[string]string{
		"Hi {{contact.name}},":                               "Hi Anna Maria Freeman,",
		"Hi {{ contact.first_name }} {{contact.last_name}}":  "Hi Anna Freeman",
		"We wrote to {{contact.email}}.":                     "We wrote to anna@example.com.",
		"{{agent.first_name}} here; {{agent.last_name}}":     "Sam here; {{agent.last_name}}",
		"{{agent.email}}":                                    "{{agent.email}}",
		"Conversation {{conversation.id}} of {{account.id}}": "Conversation 1423 of 7",
		"Your order {{Order Number}} ships soon.":            "Your order {{Order Number}} ships soon.",
		"{{Contact.Name}}":                                   "Anna Maria Freeman",
		"{{contact.phone}} {{unknown}} {{}} {{ {{x}} }}":     "{{contact.phone}} {{unknown}} {{}} {{ {{x}} }}",
		"no variables":                                       "no variables",
	} {
		assert.Equal(t, want, Fill(content, r), content)
	}
}

func TestFillInsertsValuesOnce(t *testing.T) {
	r := drafting.Request{Contact: drafting.Person{Name: "{{agent.name}}"}, Agent: drafting.Person{Name: "Sam"}}
	assert.Equal(t, "Hi {{agent.name}}", Fill("Hi {{contact.name}}", r))
}

func TestFillLeavesUnknownValues(t *testing.T) {
	assert.Equal(t, "Hi {{contact.name}}, {{conversation.id}}", Fill("Hi {{contact.name}}, {{conversation.id}}", drafting.Request{}))
}
