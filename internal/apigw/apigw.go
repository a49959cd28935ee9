// Package apigw converts between net/http and API Gateway HTTP API (payload
// format 2.0) events, so the local server runs the Lambda handlers on exactly
// the events API Gateway would send them.
package apigw

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

// Handler is the signature of every HTTP Lambda handler in this project.
type Handler func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Header finds a header case-insensitively (API Gateway lower-cases names).
func Header(req events.APIGatewayV2HTTPRequest, name string) string {
	if v, ok := req.Headers[name]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// JSON builds a JSON response. A value that cannot be encoded makes a 500,
// never a 2xx with an empty body; callers that can log why encode first.
func JSON(code int, v any) events.APIGatewayV2HTTPResponse {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"error":"response could not be encoded"}`)
	}
	return events.APIGatewayV2HTTPResponse{
		StatusCode: code,
		Headers:    map[string]string{"content-type": "application/json", "cache-control": "no-store"},
		Body:       string(b),
	}
}

// Request builds the event for r. It reads at most maxBody+1 bytes, so an
// oversized body is detected (len > maxBody) without reading all of it; the
// handler then answers 413. Like API Gateway, it lower-cases header names,
// joins repeated headers with commas, and base64-encodes non-UTF-8 bodies.
func Request(r *http.Request, maxBody int64) (events.APIGatewayV2HTTPRequest, error) {
	body, err := readBody(r, maxBody+1)
	if err != nil {
		return events.APIGatewayV2HTTPRequest{}, err
	}
	headers := make(map[string]string, len(r.Header))
	for k, v := range r.Header {
		headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	query := map[string]string{}
	for k, v := range r.URL.Query() {
		query[k] = strings.Join(v, ",")
	}
	now := time.Now()
	ev := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              r.Method + " " + r.URL.Path,
		RawPath:               r.URL.Path,
		RawQueryString:        r.URL.RawQuery,
		Headers:               headers,
		QueryStringParameters: query,
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			Stage:     "$default",
			RequestID: r.Header.Get("X-Request-Id"),
			TimeEpoch: now.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method: r.Method, Path: r.URL.Path, Protocol: r.Proto, SourceIP: r.RemoteAddr, UserAgent: r.UserAgent(),
			},
		},
	}
	if utf8.Valid(body) {
		ev.Body = string(body)
	} else {
		ev.Body, ev.IsBase64Encoded = base64.StdEncoding.EncodeToString(body), true
	}
	return ev, nil
}

// readBody is io.ReadAll(io.LimitReader(r.Body, limit)) into a buffer sized
// from Content-Length when the client sent one, so that a small body is
// read without growing the buffer.
func readBody(r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength < 0 || r.ContentLength >= limit {
		return io.ReadAll(io.LimitReader(r.Body, limit))
	}
	// One byte more than announced: a body longer than its Content-Length
	// is read (up to limit) as io.ReadAll would.
	b := make([]byte, 0, r.ContentLength+1)
	lr := io.LimitReader(r.Body, limit)
	for {
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)] // grow as io.ReadAll does
		}
	}
}

// Write writes resp to w.
func Write(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	for k, v := range resp.Headers {
		w.Header().Set(k, v)
	}
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		var err error
		if body, err = base64.StdEncoding.DecodeString(resp.Body); err != nil {
			return errors.New("apigw: response body is not base64")
		}
	}
	code := resp.StatusCode
	if code == 0 {
		code = http.StatusOK
	}
	w.WriteHeader(code)
	_, err := w.Write(body)
	return err
}

// HTTP adapts a Lambda HTTP handler to net/http. onReadError, if set, is
// told when a body could not be read (a client that stalls past the
// server's read timeout: the slow-loris case API Gateway absorbs on AWS).
func HTTP(h Handler, maxBody int64, onReadError func()) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ev, err := Request(r, maxBody)
		if err != nil {
			if onReadError != nil {
				onReadError()
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusRequestTimeout)
			_, _ = w.Write([]byte(`{"status":"rejected","error":"request body not received in time"}`))
			return
		}
		resp, err := h(r.Context(), ev)
		if err != nil {
			http.Error(w, `{"error":"internal error"}`, http.StatusInternalServerError)
			return
		}
		_ = Write(w, resp)
	})
}
