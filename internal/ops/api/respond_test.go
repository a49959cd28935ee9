package api

import (
	"bytes"
	"context"
	"log/slog"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/jsonstr"
)

func TestRespondNeverAnswersEmpty(t *testing.T) {
	past9999 := time.Date(9999, 12, 31, 23, 0, 0, 0, time.UTC).In(time.FixedZone("", 5*3600))
	tests := []struct {
		name string
		v    any
		code int
		body string
	}{
		{"encodable", map[string]any{"at": time.Date(2026, 5, 12, 9, 0, 0, 0, time.UTC)}, http.StatusOK, `{"at":"2026-05-12T09:00:00Z"}`},
		{"NaN", map[string]float64{"avg": math.NaN()}, http.StatusInternalServerError, `{"error":"response could not be encoded"}`},
		{"infinity", map[string]float64{"avg": math.Inf(1)}, http.StatusInternalServerError, `{"error":"response could not be encoded"}`},
		{"year 10000", map[string]time.Time{"due": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, http.StatusInternalServerError, `{"error":"response could not be encoded"}`},
		{"year 10000 in its own zone", map[string]time.Time{"due": past9999}, http.StatusInternalServerError, `{"error":"response could not be encoded"}`},
		{"year 10000 made encodable", map[string]time.Time{"due": jsonstr.Time(past9999)}, http.StatusOK, `{"due":"9999-12-31T23:00:00Z"}`},
		{"past the last instant made encodable", map[string]time.Time{"due": jsonstr.Time(time.Date(12000, 1, 1, 0, 0, 0, 0, time.UTC))}, http.StatusOK, `{"due":"9999-12-31T23:59:59.999999999Z"}`},
		{"before year 0 made encodable", map[string]time.Time{"at": jsonstr.Time(time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC))}, http.StatusOK, `{"at":"0000-01-01T00:00:00Z"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			ctx := context.WithValue(t.Context(), logKey{}, slog.New(slog.NewJSONHandler(&logs, nil)))
			r := respond(ctx, http.StatusOK, tc.v, slog.Int64("conversation_id", 9001))
			assert.Equal(t, tc.code, r.StatusCode)
			assert.JSONEq(t, tc.body, r.Body)
			assert.Equal(t, "application/json", r.Headers["content-type"])
			if tc.code == http.StatusOK {
				assert.Empty(t, logs.String())
				return
			}
			assert.Contains(t, logs.String(), `"msg":"response not encoded"`)
			assert.Contains(t, logs.String(), `"conversation_id":9001`)
		})
	}
}

// A route's encoding failure is logged with the handler's logger.
func TestRoutesLogWithTheHandlersLogger(t *testing.T) {
	var logs bytes.Buffer
	h := &Handler{Log: slog.New(slog.NewJSONHandler(&logs, nil)), Routes: map[string]Route{
		"/support/broken": {Public: true, Serve: func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
			return respond(ctx, http.StatusOK, math.NaN(), slog.String("response", "broken"))
		}},
	}}
	req := events.APIGatewayV2HTTPRequest{RawPath: "/support/broken"}
	req.RequestContext.HTTP.Method = http.MethodGet
	r, err := h.Handle(t.Context(), req)
	require.NoError(t, err)
	assert.Equal(t, http.StatusInternalServerError, r.StatusCode)
	assert.Contains(t, logs.String(), `"response":"broken"`)
}
