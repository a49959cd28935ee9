//go:build !chaos

package local

import "supportpipe/internal/ingest"

// edgeQueue is the queue the webhook edge sends to. Only a chaos build
// (edgequeue_chaos.go) puts anything between the two.
func edgeQueue(q ingest.Queue) ingest.Queue { return q }
