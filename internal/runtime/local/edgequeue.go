//go:build !chaos

package local

import "supportpipe/internal/pipeline/edge"

// edgeQueue is the queue the webhook edge sends to. Only a chaos build
// (edgequeue_chaos.go) puts anything between the two.
func edgeQueue(q edge.Queue) edge.Queue { return q }
