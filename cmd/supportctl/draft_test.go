package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/drafting"
	"supportpipe/internal/support/drafting/retrieval"
)

func TestDraftLines(t *testing.T) {
	kb := []drafting.Canned{
		{ShortCode: "track_refund", Content: "Your refund is on its way <3", Examples: []string{"where is my refund"}},
		{ShortCode: "cancel_order", Content: "You can cancel an order from its page.", Examples: []string{"how do I cancel my order"}},
	}
	p := &retrieval.Provider{Catalog: retrieval.NewCatalog(kb, nil, retrieval.CatalogOptions{}), MinScore: drafting.DefaultMinScore}
	in := `{"id":1,"text":"Where is my refund??"}

{"id":"b","text":"thanks, bye"}
`
	var out, errOut bytes.Buffer
	require.NoError(t, draftLines(context.Background(), p, 7, strings.NewReader(in), &out, &errOut))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 2)
	assert.Regexp(t, `^\{"id":1,"draft":"Your refund is on its way <3","source":"track_refund","score":0\.\d+\}$`, lines[0])
	assert.Regexp(t, `^\{"id":"b","draft":null,"source":null,"score":0\}$`, lines[1])
	assert.Empty(t, errOut.String())

	err := draftLines(context.Background(), p, 7, strings.NewReader("{\"id\":1,\"text\":\"x\"}\nnot json\n"), &out, &errOut)
	assert.ErrorContains(t, err, "line 2")
}

type failing struct{}

func (failing) Draft(context.Context, drafting.Request) (drafting.Suggestion, error) {
	return drafting.Suggestion{Provider: "openai"}, errors.New("openai: 503 Service Unavailable")
}

func TestDraftLinesGoOnAfterAFailure(t *testing.T) {
	var out, errOut bytes.Buffer
	err := draftLines(context.Background(), failing{}, 7, strings.NewReader("{\"id\":1,\"text\":\"a\"}\n{\"id\":2,\"text\":\"b\"}\n"), &out, &errOut)
	assert.EqualError(t, err, "2 lines failed")
	assert.Equal(t, "{\"id\":1,\"draft\":null,\"source\":null,\"score\":0}\n{\"id\":2,\"draft\":null,\"source\":null,\"score\":0}\n", out.String())
	assert.Contains(t, errOut.String(), "line 1: openai: 503")
	assert.NotContains(t, errOut.String(), `"a"`, "no message content in the errors")
}
