package api_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ops/api"
	"supportpipe/internal/ports/store/memstore"
)

// TestTokenRotation: during a rotation the old and the new token are both
// valid; nothing else is.
func TestTokenRotation(t *testing.T) {
	h := &api.Handler{Store: memstore.New(), Token: "old-token, new-token", Log: slog.New(slog.DiscardHandler), Now: time.Now}
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"Bearer old-token", 200},
		{"Bearer new-token", 200},
		{"Bearer old-token, new-token", 401},
		{"Bearer ", 401},
		{"Bearer other", 401},
		{"", 401},
	} {
		req := events.APIGatewayV2HTTPRequest{RawPath: "/support/stats", Headers: map[string]string{"authorization": tc.header},
			RequestContext: events.APIGatewayV2HTTPRequestContext{HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET"}}}
		resp, err := h.Handle(context.Background(), req)
		require.NoError(t, err)
		assert.Equal(t, tc.want, resp.StatusCode, "%q", tc.header)
	}
}
