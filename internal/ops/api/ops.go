package api

import (
	"context"
	"embed"
	"log/slog"
	"net/http"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"supportpipe/internal/apigw"
	"supportpipe/internal/jsonstr"
	"supportpipe/internal/ops/health"
	"supportpipe/internal/ops/stats"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/sla"
)

// HealthRoute serves GET /support/health: public, cached, 503 only when down.
func HealthRoute(c *health.Checker) Route {
	return Route{Public: true, Serve: func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
		r := c.Report(ctx)
		code := http.StatusOK
		if r.Status == health.Down {
			code = http.StatusServiceUnavailable
		}
		r.CheckedAt = jsonstr.Time(r.CheckedAt)
		return respond(ctx, code, r, slog.String("response", "health"))
	}}
}

// QueueView is the contract shape of GET /support/queue.
type QueueView struct {
	Pending           int       `json:"pending"`
	AvgWaitSeconds    float64   `json:"avg_wait_seconds"`
	OldestWaitSeconds float64   `json:"oldest_wait_seconds"`
	SLA               QueueSLA  `json:"sla"`
	GeneratedAt       time.Time `json:"generated_at"`
}

// QueueSLA is the SLA part of QueueView. CompliancePct is null until a
// waiting period of the day has a final outcome.
type QueueSLA struct {
	TargetSeconds float64  `json:"target_seconds"`
	CompliancePct *float64 `json:"compliance_pct"`
	Breached      int      `json:"breached"`
	AtRisk        int      `json:"at_risk"`
}

// maxWaiting bounds the support-queue read; beyond it the tile says "10000".
const maxWaiting = 10000

// Queue computes the support queue: conversations whose customer waits for
// an answer, and today's first-response compliance. A wait that starts after
// now (clock skew, or a state stored before event times were clamped)
// counts as none, so no figure is ever negative.
func Queue(ctx context.Context, s store.Store, policy sla.Policy, now time.Time) (QueueView, error) {
	v := QueueView{GeneratedAt: jsonstr.Time(now), SLA: QueueSLA{TargetSeconds: policy.Target.Seconds()}}
	waiting, err := s.WaitingForFirstResponse(ctx, maxWaiting)
	if err != nil {
		return v, err
	}
	var total float64
	for i := range waiting {
		st := &waiting[i]
		wait := max(now.Sub(st.WaitingSince()).Seconds(), 0)
		total += wait
		v.OldestWaitSeconds = max(v.OldestWaitSeconds, wait)
		if r, ok := policy.Current(st, now); ok {
			switch r.State {
			case sla.Breached:
				v.SLA.Breached++
			case sla.AtRisk:
				v.SLA.AtRisk++
			}
		}
	}
	v.Pending = len(waiting)
	if v.Pending > 0 {
		v.AvgWaitSeconds = total / float64(v.Pending)
	}
	recs, err := s.DayRecords(ctx, stats.Day(now), sla.DayRecordKind, 100000)
	if err != nil {
		return v, err
	}
	// Judged now, as the report of today judges them: a record a later
	// sweep has not yet updated says what is true by now.
	var met, breached int
	for _, dr := range recs {
		r, err := sla.ParseRecord(dr.Data)
		if err != nil {
			continue
		}
		r, begun := policy.Judge(r, now)
		if !begun {
			continue
		}
		switch r.State {
		case sla.Met:
			met++
		case sla.Breached:
			breached++
		}
	}
	if met+breached > 0 {
		pct := 100 * float64(met) / float64(met+breached)
		v.SLA.CompliancePct = &pct
	}
	return v, nil
}

// QueueRoute serves GET /support/queue (bearer token).
func QueueRoute(s store.Store, policy sla.Policy, now func() time.Time) Route {
	return Route{Serve: func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
		v, err := Queue(ctx, s, policy, now())
		if err != nil {
			logger(ctx).ErrorContext(ctx, "queue read failed", "error", err)
			return apigw.JSON(http.StatusInternalServerError, errorBody("queue unavailable"))
		}
		return respond(ctx, http.StatusOK, v, slog.String("response", "queue"))
	}}
}

//go:embed tile/tile.html tile/support-queue-tile.js
var tileFiles embed.FS

// TileRoutes serve the dashboard tile page and its web component. They are
// public: the page holds no data; the component fetches /support/queue with
// the token it is given.
func TileRoutes() map[string]Route {
	page, _ := tileFiles.ReadFile("tile/tile.html")
	js, _ := tileFiles.ReadFile("tile/support-queue-tile.js")
	static := func(body []byte, ctype string) Route {
		return Route{Public: true, Serve: func(context.Context, events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
			return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusOK, Body: string(body), Headers: map[string]string{
				"content-type": ctype, "cache-control": "no-cache", "x-content-type-options": "nosniff",
				"content-security-policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors *",
			}}
		}}
	}
	return map[string]Route{
		"/support/tile":                  static(page, "text/html; charset=utf-8"),
		"/support/support-queue-tile.js": static(js, "text/javascript; charset=utf-8"),
	}
}
