// Package sqsqueue implements queue.Queue on an Amazon SQS standard queue and
// its dead-letter queue, with aws-sdk-go-v2.
//
// The processor dead-letters messages itself, with its reason and attempt
// count; the main queue's RedrivePolicy (maxReceiveCount) is only the backstop
// for consumers that die before they can. That policy must name the DLQ all
// the same: StartMessageMoveTask, which Redrive("") uses, only accepts queues
// that are some queue's dead-letter target.
//
// Where SQS differs from the port's other drivers:
//   - Timeouts are whole seconds. Durations are rounded up, so a message never
//     shows up again before the time asked for.
//   - SQS rejects empty attribute values, so they are not sent; they read back
//     as absent, which a map lookup cannot tell from empty.
//   - Depth.OldestAge is always zero: the age of the oldest message is not a
//     queue attribute. CloudWatch's ApproximateAgeOfOldestMessage metric (and
//     an alarm on it) covers it.
//   - ListDeadLetters and Redrive(id) read the DLQ by receiving from it; see
//     ListDeadLetters for what that implies.
//   - Redrive("") is asynchronous; see Redrive.
package sqsqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"

	"supportpipe/internal/ports/queue"
)

// Config names the queues. The ARNs are needed for Redrive("") only.
type Config struct {
	QueueURL, DLQURL string
	QueueARN, DLQARN string
	// WaitTime is how long Receive long-polls for messages (at most 20 s).
	// Zero polls briefly, which on SQS may miss messages that exist.
	WaitTime time.Duration
}

// Queue is a queue.Queue on SQS. It is safe for concurrent use.
type Queue struct {
	c   *sqs.Client
	cfg Config
}

var _ queue.Queue = (*Queue)(nil)

// New returns a queue on the SQS queues named in cfg.
func New(client *sqs.Client, cfg Config) *Queue {
	return &Queue{c: client, cfg: cfg}
}

const (
	// maxAttrs is SQS's limit on message attributes per message.
	maxAttrs = 10
	// AttrMerged holds, as a JSON object, the attributes of a dead letter
	// that did not fit under SQS's limit of ten (see DeadLetter).
	AttrMerged = "dlq_merged_attributes"
	// hold is how long a message stays hidden while this package works on it:
	// moving it to the DLQ, or looking through the DLQ. It only matters when
	// that work is cut short; the message then reappears after hold.
	hold = 30 * time.Second
)

// seconds converts d to SQS's whole seconds, rounding up, within SQS's range
// of 0 to 12 hours.
func seconds(d time.Duration) int32 {
	s := (d + time.Second - 1) / time.Second
	return int32(min(max(s, 0), 12*60*60))
}

// Send implements queue.Queue. The body must be valid UTF-8: SQS carries text,
// and an invalid byte would not come back as sent. SQS takes at most ten
// attributes and 1 MiB for body and attributes together.
func (q *Queue) Send(ctx context.Context, body []byte, attrs map[string]string) (string, error) {
	return q.send(ctx, q.cfg.QueueURL, body, attrs)
}

func (q *Queue) send(ctx context.Context, url string, body []byte, attrs map[string]string) (string, error) {
	// Checked here too, so the caller gets ErrUnfit without a round trip,
	// as from every driver.
	if err := queue.Fits(body, attrs); err != nil {
		return "", fmt.Errorf("sqsqueue: send: %w", err)
	}
	out, err := q.c.SendMessage(ctx, &sqs.SendMessageInput{
		QueueUrl:          aws.String(url),
		MessageBody:       aws.String(string(body)),
		MessageAttributes: toSQS(attrs),
	})
	if err != nil {
		return "", fmt.Errorf("sqsqueue: send: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}

func toSQS(attrs map[string]string) map[string]types.MessageAttributeValue {
	var out map[string]types.MessageAttributeValue
	for k, v := range attrs {
		if v == "" {
			continue
		}
		if out == nil {
			out = make(map[string]types.MessageAttributeValue, len(attrs))
		}
		out[k] = types.MessageAttributeValue{DataType: aws.String("String"), StringValue: aws.String(v)}
	}
	return out
}

func fromSQS(attrs map[string]types.MessageAttributeValue) map[string]string {
	out := make(map[string]string, len(attrs))
	for k, v := range attrs {
		if v.StringValue != nil {
			out[k] = *v.StringValue
		}
	}
	return out
}

// Receive implements queue.Queue. It asks for at most 10 messages, SQS's
// limit; a visibility of zero or less leaves the queue's default in force.
func (q *Queue) Receive(ctx context.Context, max int, visibility time.Duration) ([]queue.Message, error) {
	ms, err := q.receive(ctx, q.cfg.QueueURL, max, visibility, q.cfg.WaitTime)
	if err != nil {
		return nil, err
	}
	out := make([]queue.Message, len(ms))
	for i, m := range ms {
		out[i] = toMessage(m)
	}
	return out, nil
}

func (q *Queue) receive(ctx context.Context, url string, max int, visibility, wait time.Duration) ([]types.Message, error) {
	if max <= 0 || max > 10 {
		max = 10
	}
	out, err := q.c.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:              aws.String(url),
		MaxNumberOfMessages:   int32(max),
		VisibilityTimeout:     seconds(visibility),
		WaitTimeSeconds:       min(seconds(wait), 20),
		MessageAttributeNames: []string{"All"},
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{
			types.MessageSystemAttributeNameApproximateReceiveCount,
			types.MessageSystemAttributeNameSentTimestamp,
		},
	})
	if err != nil {
		return nil, fmt.Errorf("sqsqueue: receive: %w", err)
	}
	return out.Messages, nil
}

func toMessage(m types.Message) queue.Message {
	out := queue.Message{
		ID:            aws.ToString(m.MessageId),
		ReceiptHandle: aws.ToString(m.ReceiptHandle),
		Body:          []byte(aws.ToString(m.Body)),
		Attributes:    fromSQS(m.MessageAttributes),
	}
	out.ReceiveCount, _ = strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
	out.SentAt = sentAt(m)
	return out
}

func sentAt(m types.Message) time.Time {
	ms, err := strconv.ParseInt(m.Attributes[string(types.MessageSystemAttributeNameSentTimestamp)], 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// receiptError marks the SQS errors that mean the receipt no longer holds the
// message, so callers can test for queue.ErrNotFound.
func receiptError(err error) error {
	var invalid *types.ReceiptHandleIsInvalid
	var notInFlight *types.MessageNotInflight
	if errors.As(err, &invalid) || errors.As(err, &notInFlight) {
		return fmt.Errorf("%w: %w", queue.ErrNotFound, err)
	}
	return err
}

// Delete implements queue.Queue. SQS accepts a stale receipt handle and then
// deletes nothing, so a slow consumer cannot delete a message that another
// consumer has received since.
func (q *Queue) Delete(ctx context.Context, receiptHandle string) error {
	return q.delete(ctx, q.cfg.QueueURL, receiptHandle)
}

func (q *Queue) delete(ctx context.Context, url, receiptHandle string) error {
	_, err := q.c.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: aws.String(receiptHandle)})
	if err != nil {
		return fmt.Errorf("sqsqueue: delete: %w", receiptError(err))
	}
	return nil
}

// ChangeVisibility implements queue.Queue. An error wrapping queue.ErrNotFound
// means the receipt no longer holds the message.
func (q *Queue) ChangeVisibility(ctx context.Context, receiptHandle string, d time.Duration) error {
	return q.changeVisibility(ctx, q.cfg.QueueURL, receiptHandle, d)
}

func (q *Queue) changeVisibility(ctx context.Context, url, receiptHandle string, d time.Duration) error {
	_, err := q.c.ChangeMessageVisibility(ctx, &sqs.ChangeMessageVisibilityInput{
		QueueUrl:          aws.String(url),
		ReceiptHandle:     aws.String(receiptHandle),
		VisibilityTimeout: seconds(d),
	})
	if err != nil {
		return fmt.Errorf("sqsqueue: change visibility: %w", receiptError(err))
	}
	return nil
}

// DeadLetter implements queue.Queue: it sends a copy to the DLQ, then deletes
// the message here.
//
// It first sets the message's visibility through m's receipt. That fails when
// the receipt is stale, so a consumer that outlived its visibility cannot copy
// a message that another consumer now holds; the error wraps queue.ErrNotFound.
// If the copy succeeds but the delete fails, the message comes back after 30 s
// and is dead-lettered again: the DLQ may hold a duplicate, never a loss.
//
// The copy carries m's attributes plus dlq_reason, dlq_attempts,
// dlq_source_message_id and dlq_at. SQS allows ten attributes per message, so
// when there are more, the first nine in order (m's attributes sorted by name,
// then the dlq_ ones in the order above) stay attributes and the rest go, as
// one JSON object, into dlq_merged_attributes. ListDeadLetters and Redrive
// unpack it. The webhook's events have at most seven attributes, so the
// processor always sees its own ones after a redrive, even by
// StartMessageMoveTask, which moves attributes as they are.
func (q *Queue) DeadLetter(ctx context.Context, m queue.Message, reason string, attempts int) error {
	if err := q.changeVisibility(ctx, q.cfg.QueueURL, m.ReceiptHandle, hold); err != nil {
		return fmt.Errorf("sqsqueue: dead-letter %s: %w", m.ID, err)
	}
	attrs, err := merge(original(m.Attributes), []string{
		queue.AttrDLQReason, reason,
		queue.AttrDLQAttempts, strconv.Itoa(attempts),
		queue.AttrDLQSource, m.ID,
		queue.AttrDLQAt, time.Now().UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return fmt.Errorf("sqsqueue: dead-letter %s: %w", m.ID, err)
	}
	if _, err := q.send(ctx, q.cfg.DLQURL, m.Body, attrs); err != nil {
		return fmt.Errorf("sqsqueue: dead-letter %s: %w", m.ID, err)
	}
	if err := q.delete(ctx, q.cfg.QueueURL, m.ReceiptHandle); err != nil {
		return fmt.Errorf("sqsqueue: dead-letter %s: copied to the DLQ but %w", m.ID, err)
	}
	return nil
}

// SendDeadLetter implements queue.Queue.
func (q *Queue) SendDeadLetter(ctx context.Context, body []byte, attrs map[string]string, reason string) (string, error) {
	all, err := merge(original(attrs), []string{
		queue.AttrDLQReason, reason,
		queue.AttrDLQAttempts, "0",
		queue.AttrDLQAt, time.Now().UTC().Format(time.RFC3339Nano),
	})
	if err != nil {
		return "", fmt.Errorf("sqsqueue: send dead letter: %w", err)
	}
	id, err := q.send(ctx, q.cfg.DLQURL, body, all)
	if err != nil {
		return "", fmt.Errorf("sqsqueue: send dead letter: %w", err)
	}
	return id, nil
}

// original returns attrs without what a previous dead-lettering added (a
// message redriven by StartMessageMoveTask still carries it).
func original(attrs map[string]string) map[string]string {
	out := unmerge(attrs)
	for k := range out {
		if strings.HasPrefix(k, "dlq_") {
			delete(out, k)
		}
	}
	return out
}

// merge adds the dlq key/value pairs to attrs and folds what exceeds the
// attribute limit into AttrMerged. Empty values are dropped, as SQS rejects them.
func merge(attrs map[string]string, dlq []string) (map[string]string, error) {
	type kv struct{ k, v string }
	var all []kv
	for _, k := range slices.Sorted(maps.Keys(attrs)) {
		all = append(all, kv{k, attrs[k]})
	}
	for i := 0; i+1 < len(dlq); i += 2 {
		all = append(all, kv{dlq[i], dlq[i+1]})
	}
	all = slices.DeleteFunc(all, func(a kv) bool { return a.v == "" })
	out := map[string]string{}
	if len(all) <= maxAttrs {
		for _, a := range all {
			out[a.k] = a.v
		}
		return out, nil
	}
	rest := map[string]string{}
	for i, a := range all {
		if i < maxAttrs-1 {
			out[a.k] = a.v
		} else {
			rest[a.k] = a.v
		}
	}
	b, err := json.Marshal(rest)
	if err != nil {
		return nil, fmt.Errorf("merge attributes: %w", err)
	}
	out[AttrMerged] = string(b)
	return out, nil
}

// unmerge returns a copy of attrs with AttrMerged unpacked. A value that is
// not a JSON object is kept as it is: it is data, not to be lost.
func unmerge(attrs map[string]string) map[string]string {
	out := maps.Clone(attrs)
	if out == nil {
		out = map[string]string{}
	}
	var rest map[string]string
	if s, ok := out[AttrMerged]; ok && json.Unmarshal([]byte(s), &rest) == nil {
		delete(out, AttrMerged)
		maps.Copy(out, rest)
	}
	return out
}

// Depth implements queue.Queue. OldestAge is always zero (see the package doc).
func (q *Queue) Depth(ctx context.Context) (queue.Depth, error) { return q.depth(ctx, q.cfg.QueueURL) }

// DLQDepth implements queue.Queue. OldestAge is always zero.
func (q *Queue) DLQDepth(ctx context.Context) (queue.Depth, error) { return q.depth(ctx, q.cfg.DLQURL) }

func (q *Queue) depth(ctx context.Context, url string) (queue.Depth, error) {
	out, err := q.c.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
		QueueUrl: aws.String(url),
		AttributeNames: []types.QueueAttributeName{
			types.QueueAttributeNameApproximateNumberOfMessages,
			types.QueueAttributeNameApproximateNumberOfMessagesNotVisible,
			types.QueueAttributeNameApproximateNumberOfMessagesDelayed,
		},
	})
	if err != nil {
		return queue.Depth{}, fmt.Errorf("sqsqueue: depth: %w", err)
	}
	var d queue.Depth
	for name, dst := range map[types.QueueAttributeName]*int64{
		types.QueueAttributeNameApproximateNumberOfMessages:           &d.Visible,
		types.QueueAttributeNameApproximateNumberOfMessagesNotVisible: &d.InFlight,
		types.QueueAttributeNameApproximateNumberOfMessagesDelayed:    &d.Delayed,
	} {
		if *dst, err = strconv.ParseInt(out.Attributes[string(name)], 10, 64); err != nil {
			return queue.Depth{}, fmt.Errorf("sqsqueue: depth: attribute %s: %w", name, err)
		}
	}
	return d, nil
}

// ListDeadLetters implements queue.Queue. SQS cannot browse a queue, so this
// receives from the DLQ, holding each message for 30 s, and makes the messages
// visible again before it returns. Caveats: every listing adds one to the dead
// letters' ApproximateReceiveCount; a second reader of the DLQ (another
// listing, a redrive) misses what this one holds at that moment; and receiving
// without a long poll may miss messages on a sparse queue, so DLQDepth, not
// the length of the list, is the count to trust. The list is sorted by dlq_at,
// but SQS picks which messages a receive returns: with more than max dead
// letters, they are not necessarily the oldest.
func (q *Queue) ListDeadLetters(ctx context.Context, max int) ([]queue.DeadLetter, error) {
	if max <= 0 {
		return nil, nil
	}
	var held []types.Message
	defer func() { q.release(context.WithoutCancel(ctx), held) }()
	if err := q.scan(ctx, &held, func() int { return min(max-len(held), 10) }); err != nil {
		return nil, fmt.Errorf("sqsqueue: list dead letters: %w", err)
	}
	dls := make([]queue.DeadLetter, len(held))
	for i, m := range held {
		dls[i] = toDeadLetter(m)
	}
	slices.SortStableFunc(dls, func(a, b queue.DeadLetter) int { return a.At.Compare(b.At) })
	return dls, nil
}

// scan receives from the DLQ into held, asking each time for as many messages
// as want says, until want says 0 or the DLQ returns nothing. held keeps each
// message once, with its latest receipt, so that all can be released.
func (q *Queue) scan(ctx context.Context, held *[]types.Message, want func() int) error {
	seen := map[string]int{}
	for n := want(); n > 0; n = want() {
		ms, err := q.receive(ctx, q.cfg.DLQURL, n, hold, 0)
		if err != nil || len(ms) == 0 {
			return err
		}
		for _, m := range ms {
			id := aws.ToString(m.MessageId)
			if i, ok := seen[id]; ok {
				(*held)[i] = m
				continue
			}
			seen[id] = len(*held)
			*held = append(*held, m)
		}
	}
	return nil
}

// release makes held DLQ messages visible again. A failure costs only time:
// the message reappears when the hold ends.
func (q *Queue) release(ctx context.Context, held []types.Message) {
	for _, m := range held {
		_ = q.changeVisibility(ctx, q.cfg.DLQURL, aws.ToString(m.ReceiptHandle), 0)
	}
}

func toDeadLetter(m types.Message) queue.DeadLetter {
	attrs := unmerge(fromSQS(m.MessageAttributes))
	d := queue.DeadLetter{
		ID:         aws.ToString(m.MessageId),
		Body:       []byte(aws.ToString(m.Body)),
		Attributes: attrs,
		Reason:     attrs[queue.AttrDLQReason],
	}
	d.Attempts, _ = strconv.Atoi(attrs[queue.AttrDLQAttempts])
	if at, err := time.Parse(time.RFC3339Nano, attrs[queue.AttrDLQAt]); err == nil {
		d.At = at
	} else {
		// Moved by the RedrivePolicy backstop, not by DeadLetter.
		d.At = sentAt(m)
		if d.Reason == "" {
			d.Reason = "max receives exceeded"
		}
	}
	return d
}

// Redrive implements queue.Queue.
//
// With an id, it looks through the DLQ for that message (as ListDeadLetters
// does), sends a copy with its original attributes to the main queue, where it
// gets a new id, and deletes it from the DLQ. If the delete fails, the copy
// stays in both queues; the processor deduplicates.
//
// With "", it starts an SQS message move task from the DLQ to the main queue
// and returns the DLQ's approximate depth at that moment: the move runs in
// the background, and only one can run per queue at a time. Moved messages get
// new ids but keep their attributes, the dlq_ ones included.
func (q *Queue) Redrive(ctx context.Context, id string) (int, error) {
	if id == "" {
		return q.redriveAll(ctx)
	}
	var held []types.Message
	defer func() { q.release(context.WithoutCancel(ctx), held) }()
	find := func() int {
		return slices.IndexFunc(held, func(m types.Message) bool { return aws.ToString(m.MessageId) == id })
	}
	err := q.scan(ctx, &held, func() int {
		if find() >= 0 {
			return 0
		}
		return 10
	})
	if err != nil {
		return 0, fmt.Errorf("sqsqueue: redrive %s: %w", id, err)
	}
	i := find()
	if i < 0 {
		return 0, fmt.Errorf("sqsqueue: redrive %s: %w", id, queue.ErrNotFound)
	}
	m := held[i]
	attrs := original(fromSQS(m.MessageAttributes))
	attrs[queue.AttrRedriven] = "true"
	if _, err := q.send(ctx, q.cfg.QueueURL, []byte(aws.ToString(m.Body)), attrs); err != nil {
		return 0, fmt.Errorf("sqsqueue: redrive %s: %w", id, err)
	}
	held = slices.Delete(held, i, i+1)
	if err := q.delete(ctx, q.cfg.DLQURL, aws.ToString(m.ReceiptHandle)); err != nil {
		return 1, fmt.Errorf("sqsqueue: redrive %s: sent to the queue but %w", id, err)
	}
	return 1, nil
}

func (q *Queue) redriveAll(ctx context.Context) (int, error) {
	d, err := q.DLQDepth(ctx)
	if err != nil {
		return 0, fmt.Errorf("sqsqueue: redrive: %w", err)
	}
	n := d.Visible + d.InFlight + d.Delayed
	if n == 0 {
		return 0, nil
	}
	_, err = q.c.StartMessageMoveTask(ctx, &sqs.StartMessageMoveTaskInput{
		SourceArn:      aws.String(q.cfg.DLQARN),
		DestinationArn: aws.String(q.cfg.QueueARN),
	})
	if err != nil {
		return 0, fmt.Errorf("sqsqueue: redrive: start message move task: %w", err)
	}
	return int(n), nil
}
