package retrieval

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/drafting"
)

func TestProviderDrafts(t *testing.T) {
	kb := append([]drafting.Canned{}, shop...)
	kb[0].Content = "Hi {{contact.first_name}}, your refund for {{Order Number}} is on its way."
	p := &Provider{Catalog: NewCatalog(kb, nil, CatalogOptions{}), MinScore: drafting.DefaultMinScore}
	s, err := p.Draft(context.Background(), drafting.Request{AccountID: 7, Text: "I'm still waiting for my reimbursement",
		Contact: drafting.Person{Name: "Anna Freeman"}})
	require.NoError(t, err)
	assert.False(t, s.Abstained())
	assert.Equal(t, "Hi Anna, your refund for {{Order Number}} is on its way.", s.Text)
	assert.Equal(t, "track_refund", s.Source)
	assert.Equal(t, drafting.Retrieval, s.Provider)
	assert.GreaterOrEqual(t, s.Score, drafting.DefaultMinScore)
	assert.Zero(t, s.InputTokens+s.OutputTokens)
}

func TestProviderAbstains(t *testing.T) {
	p := &Provider{Catalog: NewCatalog(shop, nil, CatalogOptions{}), MinScore: drafting.DefaultMinScore}
	for _, text := range []string{"thanks, that's all!", "is the parrot shop open on my grandmother's birthday?", ""} {
		s, err := p.Draft(context.Background(), drafting.Request{Text: text})
		require.NoError(t, err)
		assert.True(t, s.Abstained(), text)
		assert.Empty(t, s.Source, text)
		assert.Less(t, s.Score, drafting.DefaultMinScore, text)
	}
	// The threshold decides: the same match, a higher bar.
	strict := &Provider{Catalog: p.Catalog, MinScore: 1}
	s, err := strict.Draft(context.Background(), drafting.Request{Text: "where is my refund"})
	require.NoError(t, err)
	assert.True(t, s.Abstained())
	assert.Positive(t, s.Score)
}

func TestProviderFailsWithoutKnowledge(t *testing.T) {
	down := errors.New("chatwoot api: dial tcp: connection refused")
	p := &Provider{Catalog: NewCatalog(nil, &fakeSource{err: down}, CatalogOptions{}), MinScore: drafting.DefaultMinScore}
	_, err := p.Draft(context.Background(), drafting.Request{AccountID: 7, Text: "where is my refund"})
	assert.ErrorIs(t, err, down)
}
