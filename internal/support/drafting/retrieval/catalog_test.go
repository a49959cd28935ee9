package retrieval

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/support/drafting"
)

// fakeSource serves each account's canned responses, or an error.
type fakeSource struct {
	mu    sync.Mutex
	lists map[int64][]drafting.Canned
	err   error
	calls int
}

func (f *fakeSource) CannedResponses(_ context.Context, account int64) ([]drafting.Canned, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	return f.lists[account], nil
}

func (f *fakeSource) set(account int64, list []drafting.Canned, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists[account], f.err = list, err
}

// clock is a time the test moves by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time      { return c.now }
func (c *clock) add(d time.Duration) { c.now = c.now.Add(d) }
func newClock() *clock               { return &clock{now: time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)} }
func best(t *testing.T, ix *Index, text string) string {
	t.Helper()
	r := ix.Search(text, 1)
	if len(r.Matches) == 0 {
		return ""
	}
	return r.Matches[0].ShortCode
}

var hours = drafting.Canned{ShortCode: "hours", Content: "Our team answers Monday to Friday, 9:00 to 17:00."}

func TestCatalogRefreshesAndKeepsTheLastGoodList(t *testing.T) {
	ctx := context.Background()
	src := &fakeSource{lists: map[int64][]drafting.Canned{7: {hours}}}
	clk := newClock()
	c := NewCatalog(shop, src, CatalogOptions{Refresh: 10 * time.Minute, RetryAfter: time.Minute, Now: clk.Now})

	ix, err := c.Index(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, "hours", best(t, ix, "what are your opening hours?"), "Chatwoot's response")
	assert.Equal(t, "track_refund", best(t, ix, "where is my refund"), "the knowledge file's")
	assert.Equal(t, 1, src.calls)

	// Within the refresh period the list is not read again.
	clk.add(9 * time.Minute)
	_, err = c.Index(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, 1, src.calls)

	// Chatwoot fails: the last good list stays, and is not asked again
	// before RetryAfter.
	clk.add(time.Minute)
	src.set(7, nil, errors.New("chatwoot api: GET /api/v1/accounts/7/canned_responses: 503 Service Unavailable"))
	ix, err = c.Index(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, "hours", best(t, ix, "what are your opening hours?"))
	assert.Equal(t, 2, src.calls)
	clk.add(59 * time.Second)
	_, err = c.Index(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, 2, src.calls)

	// Back: the new list replaces the old.
	clk.add(time.Second)
	src.set(7, []drafting.Canned{{ShortCode: "hours", Content: "We answer around the clock."}}, nil)
	ix, err = c.Index(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, 3, src.calls)
	r := ix.Search("what are your opening hours?", 1)
	require.NotEmpty(t, r.Matches)
	assert.Equal(t, "We answer around the clock.", r.Matches[0].Content)
}

func TestCatalogWithoutAGoodList(t *testing.T) {
	ctx := context.Background()
	down := errors.New("chatwoot api: dial tcp: connection refused")
	src := &fakeSource{lists: map[int64][]drafting.Canned{}, err: down}

	// The knowledge file answers while Chatwoot never has.
	c := NewCatalog(shop, src, CatalogOptions{Now: newClock().Now})
	ix, err := c.Index(ctx, 7)
	require.NoError(t, err)
	assert.Equal(t, "track_refund", best(t, ix, "where is my refund"))

	// Without one, there is nothing to draft from: a failure, not an
	// abstention.
	c = NewCatalog(nil, src, CatalogOptions{Now: newClock().Now})
	_, err = c.Index(ctx, 7)
	assert.ErrorIs(t, err, down)
}

func TestCatalogWithoutSource(t *testing.T) {
	c := NewCatalog(shop, nil, CatalogOptions{})
	ix, err := c.Index(context.Background(), 7)
	require.NoError(t, err)
	assert.Equal(t, len(shop), ix.Len())
}

func TestCatalogAccountsApart(t *testing.T) {
	ctx := context.Background()
	src := &fakeSource{lists: map[int64][]drafting.Canned{7: {hours}}}
	c := NewCatalog(nil, src, CatalogOptions{Now: newClock().Now})
	ix7, err := c.Index(ctx, 7)
	require.NoError(t, err)
	ix8, err := c.Index(ctx, 8)
	require.NoError(t, err)
	assert.Equal(t, 1, ix7.Len())
	assert.Equal(t, 0, ix8.Len())
	// An event without an account draws on the knowledge file alone.
	ix0, err := c.Index(ctx, 0)
	require.NoError(t, err)
	assert.Equal(t, 0, ix0.Len())
	assert.Equal(t, 2, src.calls)
}

func TestMerge(t *testing.T) {
	knowledge := []drafting.Canned{
		{ShortCode: "refund", Content: "old text", Examples: []string{"where is my refund"}},
		{ShortCode: "hours", Content: "9 to 5"},
	}
	canned := []drafting.Canned{
		{ShortCode: "refund", Content: "new text"},
		{ShortCode: "thanks", Content: "You're welcome!"},
		{ShortCode: "empty", Content: " "},
		{ShortCode: "", Content: "no code"},
	}
	assert.Equal(t, []drafting.Canned{
		{ShortCode: "refund", Content: "new text", Examples: []string{"where is my refund"}},
		{ShortCode: "hours", Content: "9 to 5"},
		{ShortCode: "thanks", Content: "You're welcome!"},
	}, merge(knowledge, canned))
}
