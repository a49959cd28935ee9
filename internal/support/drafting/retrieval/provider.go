package retrieval

import (
	"context"

	"supportpipe/internal/support/drafting"
)

// Provider drafts with the canned response that fits the message best, its
// variables filled, or abstains when the match's confidence is below
// MinScore: no draft is better than a wrong one, which an agent would have
// to read, judge and discard.
type Provider struct {
	Catalog  *Catalog
	MinScore float64
}

var _ drafting.Provider = (*Provider)(nil)

// Draft implements drafting.Provider. Its score is the match's confidence
// (Result.Confidence), also when it abstains.
func (p *Provider) Draft(ctx context.Context, r drafting.Request) (drafting.Suggestion, error) {
	s := drafting.Suggestion{Provider: drafting.Retrieval}
	ix, err := p.Catalog.Index(ctx, r.AccountID)
	if err != nil {
		return s, err
	}
	res := ix.Search(r.Text, 1)
	s.Score = res.Confidence
	if len(res.Matches) == 0 || res.Confidence < p.MinScore {
		return s, nil
	}
	s.Text, s.Source = Fill(res.Matches[0].Content, r), res.Matches[0].ShortCode
	return s, nil
}
