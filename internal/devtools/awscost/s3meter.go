package awscost

import (
	"maps"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// S3Usage is what the metered S3 requests were: their count by operation,
// and the bytes stored by PutObject.
type S3Usage struct {
	Requests map[string]int
	PutBytes int64
}

// Total is the number of requests, each of which S3 writes an access-log
// record for.
func (u S3Usage) Total() int {
	n := 0
	for _, c := range u.Requests {
		n += c
	}
	return n
}

// S3Meter is an http.RoundTripper for a path-style S3 client that forwards
// every request and counts it by the operation S3 bills it as.
type S3Meter struct {
	Next http.RoundTripper

	mu    sync.Mutex
	usage S3Usage
}

// Usage returns a copy of what was counted so far.
func (m *S3Meter) Usage() S3Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.usage
	u.Requests = maps.Clone(m.usage.Requests)
	return u
}

// Reset starts counting from zero.
func (m *S3Meter) Reset() {
	m.mu.Lock()
	m.usage = S3Usage{}
	m.mu.Unlock()
}

// RoundTrip implements http.RoundTripper.
func (m *S3Meter) RoundTrip(req *http.Request) (*http.Response, error) {
	op := s3Operation(req)
	m.mu.Lock()
	if m.usage.Requests == nil {
		m.usage.Requests = map[string]int{}
	}
	m.usage.Requests[op]++
	if op == "PutObject" {
		m.usage.PutBytes += putBytes(req)
	}
	m.mu.Unlock()
	next := m.Next
	if next == nil {
		next = http.DefaultTransport
	}
	return next.RoundTrip(req)
}

// s3Operation names a path-style request (/bucket or /bucket/key).
func s3Operation(req *http.Request) string {
	_, key, _ := strings.Cut(strings.TrimPrefix(req.URL.Path, "/"), "/")
	q := req.URL.Query()
	switch {
	case req.Method == http.MethodPost && q.Has("delete"):
		return "DeleteObjects"
	case key == "" && req.Method == http.MethodGet:
		return "ListObjectsV2"
	case key == "" && req.Method == http.MethodPut:
		return "CreateBucket"
	case req.Method == http.MethodPut:
		return "PutObject"
	case req.Method == http.MethodGet:
		return "GetObject"
	case req.Method == http.MethodHead:
		return "HeadObject"
	case req.Method == http.MethodDelete:
		return "DeleteObject"
	}
	return req.Method
}

// putBytes is the object's size: a body sent in aws-chunked encoding (with
// a trailing checksum) declares its decoded length in a header.
func putBytes(req *http.Request) int64 {
	if n, err := strconv.ParseInt(req.Header.Get("X-Amz-Decoded-Content-Length"), 10, 64); err == nil {
		return n
	}
	return max(req.ContentLength, 0)
}
