// Package health runs the dependency checks behind GET /support/health and
// caches the result, so a dashboard polling every few seconds costs one
// Chatwoot profile call per cache period, not one per request.
package health

import (
	"context"
	"sync"
	"time"
)

// Statuses of a check and of the whole report.
const (
	OK       = "ok"
	Degraded = "degraded"
	Down     = "down"
	// Mock is the chatwoot_api check in mock mode; it counts as ok.
	Mock = "mock"
)

// Result is one check's outcome. Detail is written for an operator and
// must never carry a secret or a raw internal error.
type Result struct {
	Name      string  `json:"name"`
	Status    string  `json:"status"`
	Detail    string  `json:"detail"`
	LatencyMS float64 `json:"latency_ms"`
}

// Report is the response body.
type Report struct {
	Status    string    `json:"status"`
	Checks    []Result  `json:"checks"`
	CheckedAt time.Time `json:"checked_at"`
	Cached    bool      `json:"cached"`
}

// Check is one named probe; it returns a status and a detail.
type Check struct {
	Name string
	Run  func(ctx context.Context) (status, detail string)
	// Waiting, when set, tells a result that is only waiting for the
	// first event (ingest before the first webhook). A report holding such
	// a result is not served for the whole TTL: that one check runs again,
	// at most every RecheckEvery, and once its answer changes the whole
	// report is checked anew, so the cache never hides the first webhook.
	Waiting func(status, detail string) bool
}

// DefaultRecheckEvery bounds how often a waiting check runs again: the
// health endpoint is public, and each run is a store read.
const DefaultRecheckEvery = time.Second

// Checker runs the checks and caches the report for TTL, shared by every
// request of the process.
type Checker struct {
	Checks  []Check
	TTL     time.Duration
	Now     func() time.Time
	Timeout time.Duration // per check; default 3 s
	// RecheckEvery: see Check.Waiting; default DefaultRecheckEvery.
	RecheckEvery time.Duration

	mu        sync.Mutex
	cached    *Report
	rechecked time.Time
}

// Report returns the cached report if fresh, else runs the checks.
func (c *Checker) Report(ctx context.Context) Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.Now()
	if c.cached != nil && now.Sub(c.cached.CheckedAt) < c.TTL && !c.waitingChanged(ctx, now) {
		r := *c.cached
		r.Cached = true
		return r
	}
	r := c.run(ctx, now)
	c.cached = &r
	return r
}

// waitingChanged runs again the checks whose cached result is waiting for
// a first event, and reports whether any now answers otherwise.
func (c *Checker) waitingChanged(ctx context.Context, now time.Time) bool {
	every := c.RecheckEvery
	if every <= 0 {
		every = DefaultRecheckEvery
	}
	if now.Sub(c.rechecked) < every {
		return false
	}
	ran := false
	for i, ch := range c.Checks {
		if ch.Waiting == nil || i >= len(c.cached.Checks) {
			continue
		}
		was := c.cached.Checks[i]
		if !ch.Waiting(was.Status, was.Detail) {
			continue
		}
		ran = true
		if got := c.runOne(ctx, ch); got.Status != was.Status || got.Detail != was.Detail {
			return true
		}
	}
	if ran {
		c.rechecked = now
	}
	return false
}

func (c *Checker) run(ctx context.Context, now time.Time) Report {
	results := make([]Result, len(c.Checks))
	var wg sync.WaitGroup
	for i, ch := range c.Checks {
		wg.Go(func() { results[i] = c.runOne(ctx, ch) })
	}
	wg.Wait()
	c.rechecked = now
	return Report{Status: Overall(results), Checks: results, CheckedAt: now.UTC()}
}

// runOne runs one check within the per-check timeout.
func (c *Checker) runOne(ctx context.Context, ch Check) Result {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	status, detail := ch.Run(cctx)
	if cctx.Err() != nil && status == OK {
		status, detail = Degraded, "timed out"
	}
	return Result{Name: ch.Name, Status: status, Detail: detail,
		LatencyMS: float64(time.Since(start).Microseconds()) / 1000}
}

// Overall is down if any check is down, degraded if any is degraded, else ok.
func Overall(rs []Result) string {
	s := OK
	for _, r := range rs {
		switch r.Status {
		case Down:
			return Down
		case Degraded:
			s = Degraded
		}
	}
	return s
}
