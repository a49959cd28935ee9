//go:build chaos

package local

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"

	"supportpipe/internal/pipeline/edge"
)

// sendFailEnv is the share of the edge's queue sends a chaos build fails
// (0 to 1), so that the spool takes over as it would when SQS fails.
const sendFailEnv = "SUPPORT_CHAOS_SEND_FAIL"

// Injected send failures. Half fail before the message reaches the queue;
// the other half after: the message is on the queue but the edge sees an
// error, as when SQS's answer is lost, so the spool holds a second copy.
var (
	errSendFailed    = errors.New("chaos: queue send failed")
	errReplyLost     = errors.New("chaos: queue send succeeded but its answer was lost")
	chaosSendFailure = sendFailShare()
)

func sendFailShare() float64 {
	v := os.Getenv(sendFailEnv)
	if v == "" {
		return 0
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f < 0 || f > 1 {
		// A chaos run that silently injected nothing would pass for the wrong reason.
		panic(fmt.Sprintf("%s=%q: want a share between 0 and 1", sendFailEnv, v))
	}
	return f
}

func edgeQueue(q edge.Queue) edge.Queue {
	if chaosSendFailure == 0 {
		return q
	}
	return failingQueue{Queue: q, share: chaosSendFailure}
}

// failingQueue fails a share of Send calls; dead letters (invalid
// payloads) go through untouched.
type failingQueue struct {
	edge.Queue
	share float64
}

func (q failingQueue) Send(ctx context.Context, body []byte, attrs map[string]string) (string, error) {
	roll := rand.Float64()
	if roll < q.share/2 {
		return "", errSendFailed
	}
	id, err := q.Queue.Send(ctx, body, attrs)
	if err == nil && roll < q.share {
		return "", errReplyLost
	}
	return id, err
}
