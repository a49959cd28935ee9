// Package edgetest builds webhook requests signed exactly as Chatwoot signs
// them, as API Gateway would deliver them, for tests of every layer.
package edgetest

import (
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"supportpipe/internal/chatwoot"
)

// Request returns a signed POST /webhooks/chatwoot event.
func Request(secret string, body []byte, at time.Time, delivery string) events.APIGatewayV2HTTPRequest {
	ts := strconv.FormatInt(at.Unix(), 10)
	return events.APIGatewayV2HTTPRequest{
		Version:  "2.0",
		RouteKey: "POST /webhooks/chatwoot",
		RawPath:  "/webhooks/chatwoot",
		Headers: map[string]string{
			"content-type":           "application/json",
			chatwoot.HeaderDelivery:  delivery,
			chatwoot.HeaderTimestamp: ts,
			chatwoot.HeaderSignature: chatwoot.Sign([]byte(secret), ts, body),
		},
		Body: string(body),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/webhooks/chatwoot"},
		},
	}
}
