package retrieval

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"supportpipe/internal/support/drafting"
)

// Catalog holds what a provider draws from for each account: the knowledge
// file's entries, and the account's canned responses from Chatwoot, read
// again every Refresh. When a read fails the last good list stays in use,
// and the next read is tried after RetryAfter, so that a Chatwoot outage
// costs one failed call a minute rather than one per message. It is safe
// for concurrent use.
type Catalog struct {
	knowledge []drafting.Canned
	static    *Index
	source    drafting.CannedSource // nil: the knowledge alone
	o         CatalogOptions

	mu       sync.Mutex
	accounts map[int64]*accountIndex
}

// CatalogOptions tune a Catalog. The zero value reads Chatwoot every ten
// minutes, and a minute after a failure.
type CatalogOptions struct {
	Refresh    time.Duration
	RetryAfter time.Duration
	Now        func() time.Time
	Log        *slog.Logger
}

type accountIndex struct {
	mu   sync.Mutex // one read of Chatwoot at a time per account
	ix   *Index     // nil until a read succeeds
	next time.Time  // when to read again
}

// NewCatalog returns a catalog of the knowledge entries and, when source is
// not nil, of each account's canned responses from it.
func NewCatalog(knowledge []drafting.Canned, source drafting.CannedSource, o CatalogOptions) *Catalog {
	if o.Refresh <= 0 {
		o.Refresh = 10 * time.Minute
	}
	if o.RetryAfter <= 0 {
		o.RetryAfter = min(o.Refresh, time.Minute)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Catalog{knowledge: knowledge, static: NewIndex(knowledge), source: source, o: o,
		accounts: map[int64]*accountIndex{}}
}

// Index returns the index for an account. It fails only when Chatwoot has
// never answered for the account and there is no knowledge file to fall
// back on.
func (c *Catalog) Index(ctx context.Context, account int64) (*Index, error) {
	if c.source == nil || account <= 0 {
		return c.static, nil
	}
	c.mu.Lock()
	a := c.accounts[account]
	if a == nil {
		a = &accountIndex{}
		c.accounts[account] = a
	}
	c.mu.Unlock()

	a.mu.Lock()
	defer a.mu.Unlock()
	now := c.o.Now()
	if now.Before(a.next) {
		return c.current(a), nil
	}
	canned, err := c.source.CannedResponses(ctx, account)
	if err != nil {
		a.next = now.Add(c.o.RetryAfter)
		c.o.Log.Warn("drafting: canned responses not read; the last good list stays in use",
			"account", account, "error", err.Error(), "retry_in", c.o.RetryAfter.String())
		if a.ix == nil && c.static.Len() == 0 {
			return nil, fmt.Errorf("drafting: canned responses of account %d: %w", account, err)
		}
		return c.current(a), nil
	}
	a.ix, a.next = NewIndex(merge(c.knowledge, canned)), now.Add(c.o.Refresh)
	return a.ix, nil
}

func (c *Catalog) current(a *accountIndex) *Index {
	if a.ix == nil {
		return c.static
	}
	return a.ix
}

// merge joins the knowledge file's entries and Chatwoot's canned responses.
// A short code in both is one entry: Chatwoot's content, which the team
// keeps current, with the knowledge file's examples.
func merge(knowledge, canned []drafting.Canned) []drafting.Canned {
	out := make([]drafting.Canned, 0, len(knowledge)+len(canned))
	at := make(map[string]int, len(knowledge))
	for _, k := range knowledge {
		at[k.ShortCode] = len(out)
		out = append(out, k)
	}
	for _, cr := range canned {
		if strings.TrimSpace(cr.ShortCode) == "" || strings.TrimSpace(cr.Content) == "" {
			continue // nothing to match or to say
		}
		if i, ok := at[cr.ShortCode]; ok {
			out[i].Content = cr.Content
			continue
		}
		at[cr.ShortCode] = len(out)
		out = append(out, cr)
	}
	return out
}
