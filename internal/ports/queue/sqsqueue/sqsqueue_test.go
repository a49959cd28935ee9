package sqsqueue_test

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"supportpipe/internal/ports/queue"
	"supportpipe/internal/ports/queue/queuetest"
	"supportpipe/internal/ports/queue/sqsqueue"
	"supportpipe/internal/ports/queue/sqsqueue/sqsfake"
)

// newFake starts a fake with a main queue "events" and its DLQ "events-dlq".
func newFake(t *testing.T) *sqsfake.Server {
	f := sqsfake.New(t)
	f.CreateQueue("events", false)
	f.CreateQueue("events-dlq", true)
	return f
}

// open returns a queue on a new fake, and the fake.
func open(t *testing.T) (*sqsqueue.Queue, *sqsfake.Server) {
	f := newFake(t)
	return reopen(f), f
}

// reopen returns a second queue, with its own client, on the fake's queues.
func reopen(f *sqsfake.Server) *sqsqueue.Queue {
	main, dlq := f.Queue("events"), f.Queue("events-dlq")
	return sqsqueue.New(sqsClient(f), sqsqueue.Config{QueueURL: main.URL, DLQURL: dlq.URL, QueueARN: main.ARN, DLQARN: dlq.ARN})
}

func TestConformance(t *testing.T) {
	queuetest.Run(t, func(t *testing.T) queue.Queue { q, f := open(t); return handle{q, f} }, queuetest.Options{
		Resolution:      time.Second,
		NoOldestAge:     true,
		AsyncRedriveAll: true,
		OpenAgain:       func(t *testing.T, q queue.Queue) queue.Queue { return reopen(q.(handle).f) },
	})
}

// handle remembers the fake so that the durability test can reach it again.
type handle struct {
	*sqsqueue.Queue
	f *sqsfake.Server
}

// wire returns attributes as SQS's JSON protocol carries them.
func wire(attrs map[string]string) map[string]any {
	out := map[string]any{}
	for k, v := range attrs {
		out[k] = map[string]any{"DataType": "String", "StringValue": v}
	}
	return out
}

// unwire is the inverse of wire, failing on anything but String attributes.
func unwire(t *testing.T, v any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for k, a := range v.(map[string]any) {
		require.Equal(t, map[string]any{"DataType": "String", "StringValue": a.(map[string]any)["StringValue"]}, a, "attribute %s", k)
		out[k] = a.(map[string]any)["StringValue"].(string)
	}
	return out
}

// ops names each call with the queue it addressed: "SendMessage events".
func ops(calls []sqsfake.Call) []string {
	var out []string
	for _, c := range calls {
		s := c.Op
		if u, ok := c.Body["QueueUrl"].(string); ok {
			s += " " + u[strings.LastIndex(u, "/")+1:]
		}
		out = append(out, s)
	}
	return out
}

func eventAttrs(kv ...string) map[string]string {
	m := map[string]string{
		queue.AttrDelivery:   "7d8f7f5e-2c4b",
		queue.AttrTimestamp:  "1764325200",
		queue.AttrSignature:  "sha256=3f1c",
		queue.AttrReceivedAt: "2026-11-28T10:20:00.123456789Z",
		queue.AttrAccount:    "42",
		queue.AttrEvent:      "message_created",
	}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

func TestSendWire(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		attrs map[string]string
		want  map[string]string
	}{
		{"event", `{"content":"héllo 👋 \u003cb\u003e"}`, eventAttrs(), eventAttrs()},
		{"empty values are not sent", `{}`, eventAttrs(queue.AttrSignature, ""), func() map[string]string {
			m := eventAttrs()
			delete(m, queue.AttrSignature)
			return m
		}()},
		{"no attributes", `{}`, nil, map[string]string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, f := open(t)
			id, err := q.Send(t.Context(), []byte(tc.body), tc.attrs)
			require.NoError(t, err)
			calls := f.TakeCalls()
			require.Equal(t, []string{"SendMessage events"}, ops(calls))
			in := calls[0].Body
			assert.Equal(t, f.Queue("events").URL, in["QueueUrl"])
			assert.Equal(t, tc.body, in["MessageBody"])
			if len(tc.want) == 0 {
				assert.NotContains(t, in, "MessageAttributes")
			} else {
				assert.Equal(t, wire(tc.want), in["MessageAttributes"])
			}
			assert.Equal(t, f.Messages("events")[0].ID, id)
		})
	}
}

func TestSendRejectsInvalidUTF8(t *testing.T) {
	q, f := open(t)
	_, err := q.Send(t.Context(), []byte{'{', 0xff, '}'}, nil)
	assert.ErrorIs(t, err, queue.ErrUnfit)
	assert.Empty(t, f.TakeCalls(), "nothing sent")
}

func TestReceiveWire(t *testing.T) {
	tests := []struct {
		name     string
		wait     time.Duration
		max      int
		vis      time.Duration
		wantBody map[string]any
	}{
		{"rounds visibility up and caps max", 2 * time.Second, 25, 1500 * time.Millisecond, map[string]any{
			"MaxNumberOfMessages": 10.0, "VisibilityTimeout": 2.0, "WaitTimeSeconds": 2.0}},
		{"zero visibility leaves the queue default", 0, 3, 0, map[string]any{"MaxNumberOfMessages": 3.0}},
		{"long poll is capped at 20 s", time.Minute, 1, time.Minute, map[string]any{
			"MaxNumberOfMessages": 1.0, "VisibilityTimeout": 60.0, "WaitTimeSeconds": 20.0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			main, dlq := f.Queue("events"), f.Queue("events-dlq")
			before := time.Now()
			_, err := reopen(f).Send(t.Context(), []byte(`{}`), eventAttrs())
			require.NoError(t, err)
			after := time.Now()
			q := sqsqueue.New(sqsClient(f), sqsqueue.Config{QueueURL: main.URL, DLQURL: dlq.URL, WaitTime: tc.wait})
			f.TakeCalls()
			ms, err := q.Receive(t.Context(), tc.max, tc.vis)
			require.NoError(t, err)
			require.Len(t, ms, 1)
			calls := f.TakeCalls()
			require.Equal(t, []string{"ReceiveMessage events"}, ops(calls))
			want := map[string]any{
				"QueueUrl":                    main.URL,
				"MessageAttributeNames":       []any{"All"},
				"MessageSystemAttributeNames": []any{"ApproximateReceiveCount", "SentTimestamp"},
			}
			maps.Copy(want, tc.wantBody)
			assert.Equal(t, want, calls[0].Body)

			m, stored := ms[0], f.Messages("events")[0]
			assert.Equal(t, stored.ID, m.ID)
			assert.Equal(t, stored.ReceiptHandle, m.ReceiptHandle)
			assert.Equal(t, eventAttrs(), m.Attributes)
			assert.Equal(t, 1, m.ReceiveCount)
			assert.Equal(t, stored.SentAt.UnixMilli(), m.SentAt.UnixMilli())
			assert.Equal(t, time.UTC, m.SentAt.Location())
			assert.WithinRange(t, m.SentAt, before.Truncate(time.Millisecond), after, "SQS's SentTimestamp is in milliseconds")
		})
	}
}

func sqsClient(f *sqsfake.Server) *sqs.Client {
	return sqs.New(sqs.Options{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(f.URL),
	})
}

// TestBackoffWire: the processor's 1/2/4 s backoff reaches SQS as whole seconds,
// rounded up.
func TestBackoffWire(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want float64
	}{
		{time.Second, 1},
		{2 * time.Second, 2},
		{4 * time.Second, 4},
		{1500 * time.Millisecond, 2},
		{time.Nanosecond, 1},
		{0, 0},
		{13 * time.Hour, 43200},
	}
	for _, tc := range tests {
		t.Run(tc.d.String(), func(t *testing.T) {
			q, f := open(t)
			_, err := q.Send(t.Context(), []byte(`{}`), nil)
			require.NoError(t, err)
			ms, err := q.Receive(t.Context(), 1, time.Minute)
			require.NoError(t, err)
			f.TakeCalls()
			require.NoError(t, q.ChangeVisibility(t.Context(), ms[0].ReceiptHandle, tc.d))
			calls := f.TakeCalls()
			require.Equal(t, []string{"ChangeMessageVisibility events"}, ops(calls))
			assert.Equal(t, map[string]any{
				"QueueUrl": f.Queue("events").URL, "ReceiptHandle": ms[0].ReceiptHandle, "VisibilityTimeout": tc.want,
			}, calls[0].Body)
		})
	}
}

func receive(t *testing.T, q *sqsqueue.Queue) queue.Message {
	t.Helper()
	ms, err := q.Receive(t.Context(), 1, time.Minute)
	require.NoError(t, err)
	require.Len(t, ms, 1)
	return ms[0]
}

func TestDeadLetterWire(t *testing.T) {
	ten := map[string]string{}
	for i := range 10 {
		ten["attr_"+strconv.Itoa(i)] = "v" + strconv.Itoa(i)
	}
	tests := []struct {
		name  string
		attrs map[string]string
		// merged lists the attributes expected in dlq_merged_attributes.
		merged []string
	}{
		{"six attributes fit with the four dlq ones", eventAttrs(), nil},
		{"backfilled: the last two dlq ones are merged", eventAttrs(queue.AttrBackfilled, "true"),
			[]string{queue.AttrDLQSource, queue.AttrDLQAt}},
		{"ten attributes: the last original and all dlq ones are merged", ten,
			[]string{"attr_9", queue.AttrDLQReason, queue.AttrDLQAttempts, queue.AttrDLQSource, queue.AttrDLQAt}},
		{"a previous dead-lettering is replaced", eventAttrs(queue.AttrDLQReason, "old", sqsqueue.AttrMerged,
			`{"dlq_at":"2020-01-01T00:00:00Z","dlq_source_message_id":"old"}`), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q, f := open(t)
			_, err := q.Send(t.Context(), []byte(`{"x":"☠"}`), tc.attrs)
			require.NoError(t, err)
			m := receive(t, q)
			f.TakeCalls()
			before := time.Now()
			require.NoError(t, q.DeadLetter(t.Context(), m, "decode: bad payload", 4))
			after := time.Now()
			calls := f.TakeCalls()
			require.Equal(t, []string{"ChangeMessageVisibility events", "SendMessage events-dlq", "DeleteMessage events"}, ops(calls))
			assert.Equal(t, 30.0, calls[0].Body["VisibilityTimeout"], "held while moving")
			assert.Equal(t, m.ReceiptHandle, calls[0].Body["ReceiptHandle"])
			assert.Equal(t, m.ReceiptHandle, calls[2].Body["ReceiptHandle"])

			send := calls[1].Body
			assert.Equal(t, `{"x":"☠"}`, send["MessageBody"])
			sent := unwire(t, send["MessageAttributes"])
			assert.LessOrEqual(t, len(sent), 10, "SQS attribute limit")
			all := maps.Clone(sent)
			if tc.merged != nil {
				var merged map[string]string
				require.NoError(t, json.Unmarshal([]byte(sent[sqsqueue.AttrMerged]), &merged))
				assert.ElementsMatch(t, tc.merged, slices.Collect(maps.Keys(merged)))
				delete(all, sqsqueue.AttrMerged)
				maps.Copy(all, merged)
			} else {
				assert.NotContains(t, sent, sqsqueue.AttrMerged)
			}
			want := map[string]string{}
			for k, v := range tc.attrs {
				if k != queue.AttrDLQReason && k != sqsqueue.AttrMerged {
					want[k] = v
				}
			}
			want[queue.AttrDLQReason] = "decode: bad payload"
			want[queue.AttrDLQAttempts] = "4"
			want[queue.AttrDLQSource] = m.ID
			at, err := time.Parse(time.RFC3339Nano, all[queue.AttrDLQAt])
			require.NoError(t, err)
			assert.WithinRange(t, at, before, after)
			want[queue.AttrDLQAt] = all[queue.AttrDLQAt]
			assert.Equal(t, want, all)

			dls, err := q.ListDeadLetters(t.Context(), 10)
			require.NoError(t, err)
			require.Len(t, dls, 1)
			assert.Equal(t, want, dls[0].Attributes, "ListDeadLetters unpacks merged attributes")
		})
	}
}

func TestDeadLetterFailures(t *testing.T) {
	denied := sqsfake.APIError{Type: "AccessDeniedException", Message: "not allowed"}
	t.Run("DLQ send fails", func(t *testing.T) {
		q, f := open(t)
		_, err := q.Send(t.Context(), []byte(`{}`), nil)
		require.NoError(t, err)
		m := receive(t, q)
		f.FailNext("SendMessage", denied)
		err = q.DeadLetter(t.Context(), m, "bad", 5)
		var api smithy.APIError
		require.ErrorAs(t, err, &api)
		assert.Equal(t, "AccessDeniedException", api.ErrorCode())
		d, err := q.Depth(t.Context())
		require.NoError(t, err)
		assert.Equal(t, queue.Depth{InFlight: 1}, d, "still in the main queue, held")
		d, err = q.DLQDepth(t.Context())
		require.NoError(t, err)
		assert.Equal(t, queue.Depth{}, d)
	})
	t.Run("delete fails after the copy", func(t *testing.T) {
		q, f := open(t)
		_, err := q.Send(t.Context(), []byte(`{}`), nil)
		require.NoError(t, err)
		m := receive(t, q)
		f.FailNext("DeleteMessage", denied)
		err = q.DeadLetter(t.Context(), m, "bad", 5)
		assert.ErrorContains(t, err, "copied to the DLQ")
		d, err := q.DLQDepth(t.Context())
		require.NoError(t, err)
		assert.Equal(t, queue.Depth{Visible: 1}, d)
	})
	t.Run("stale receipt copies nothing", func(t *testing.T) {
		q, f := open(t)
		_, err := q.Send(t.Context(), []byte(`{}`), nil)
		require.NoError(t, err)
		m := receive(t, q)
		f.FailNext("ChangeMessageVisibility", sqsfake.APIError{Type: "com.amazonaws.sqs#ReceiptHandleIsInvalid", Message: "stale"})
		f.TakeCalls()
		err = q.DeadLetter(t.Context(), m, "bad", 5)
		assert.ErrorIs(t, err, queue.ErrNotFound)
		var invalid *types.ReceiptHandleIsInvalid
		assert.ErrorAs(t, err, &invalid)
		assert.Equal(t, []string{"ChangeMessageVisibility events"}, ops(f.TakeCalls()))
	})
}

func TestDepthWire(t *testing.T) {
	q, f := open(t)
	for range 3 {
		_, err := q.Send(t.Context(), []byte(`{}`), nil)
		require.NoError(t, err)
	}
	receive(t, q)
	f.TakeCalls()
	d, err := q.Depth(t.Context())
	require.NoError(t, err)
	assert.Equal(t, queue.Depth{Visible: 2, InFlight: 1}, d)
	d, err = q.DLQDepth(t.Context())
	require.NoError(t, err)
	assert.Equal(t, queue.Depth{}, d)
	calls := f.TakeCalls()
	require.Equal(t, []string{"GetQueueAttributes events", "GetQueueAttributes events-dlq"}, ops(calls))
	for _, c := range calls {
		assert.ElementsMatch(t, []any{"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible",
			"ApproximateNumberOfMessagesDelayed"}, c.Body["AttributeNames"])
	}
}

func TestRedriveAllWire(t *testing.T) {
	q, f := open(t)
	n, err := q.Redrive(t.Context(), "")
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, []string{"GetQueueAttributes events-dlq"}, ops(f.TakeCalls()), "no task for an empty DLQ")

	for range 2 {
		_, err := q.Send(t.Context(), []byte(`{}`), nil)
		require.NoError(t, err)
		require.NoError(t, q.DeadLetter(t.Context(), receive(t, q), "bad", 5))
	}
	f.TakeCalls()
	n, err = q.Redrive(t.Context(), "")
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	calls := f.TakeCalls()
	require.Equal(t, []string{"GetQueueAttributes events-dlq", "StartMessageMoveTask"}, ops(calls))
	assert.Equal(t, map[string]any{"SourceArn": f.Queue("events-dlq").ARN, "DestinationArn": f.Queue("events").ARN}, calls[1].Body)

	// The same move from a queue that no RedrivePolicy names.
	plain := sqsfake.New(t)
	plain.CreateQueue("events", false)
	plain.CreateQueue("events-dlq", false)
	q = reopen(plain)
	_, err = q.Send(t.Context(), []byte(`{}`), nil)
	require.NoError(t, err)
	require.NoError(t, q.DeadLetter(t.Context(), receive(t, q), "bad", 5))
	_, err = q.Redrive(t.Context(), "")
	var unsupported *types.UnsupportedOperation
	assert.ErrorAs(t, err, &unsupported, "SQS refuses a source that no RedrivePolicy names")
}

func TestRedriveOneWire(t *testing.T) {
	q, f := open(t)
	var backfilled string
	for i, attrs := range []map[string]string{eventAttrs(), eventAttrs(queue.AttrBackfilled, "true"), eventAttrs()} {
		id, err := q.Send(t.Context(), []byte(`{"n":`+strconv.Itoa(i)+`}`), attrs)
		require.NoError(t, err)
		require.NoError(t, q.DeadLetter(t.Context(), receive(t, q), "bad", 5))
		if i == 1 {
			backfilled = id
		}
	}
	dls, err := q.ListDeadLetters(t.Context(), 10)
	require.NoError(t, err)
	var target string
	for _, d := range dls {
		if d.Attributes[queue.AttrDLQSource] == backfilled {
			target = d.ID
		}
	}
	require.NotEmpty(t, target)
	f.TakeCalls()

	n, err := q.Redrive(t.Context(), target)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	calls := f.TakeCalls()
	got := ops(calls)
	require.GreaterOrEqual(t, len(got), 3)
	assert.Equal(t, "ReceiveMessage events-dlq", got[0])
	assert.Equal(t, 30.0, calls[0].Body["VisibilityTimeout"])
	i := 1
	for got[i] == "ReceiveMessage events-dlq" {
		i++
	}
	assert.Equal(t, []string{"SendMessage events", "DeleteMessage events-dlq"}, got[i:i+2])
	assert.Equal(t, `{"n":1}`, calls[i].Body["MessageBody"])
	assert.Equal(t, eventAttrs(queue.AttrBackfilled, "true", queue.AttrRedriven, "true"), unwire(t, calls[i].Body["MessageAttributes"]),
		"original attributes, merged ones unpacked, dlq_ ones dropped but the redrive mark")
	for _, c := range calls[i+2:] {
		assert.Equal(t, "ChangeMessageVisibility", c.Op, "the others are released")
		assert.Equal(t, 0.0, c.Body["VisibilityTimeout"])
	}
	d, err := q.DLQDepth(t.Context())
	require.NoError(t, err)
	assert.Equal(t, queue.Depth{Visible: 2}, d)
}

// TestListDeadLettersBackstop: a message that the RedrivePolicy moved has no
// dlq_ attributes.
func TestListDeadLettersBackstop(t *testing.T) {
	f := newFake(t)
	main, dlq := f.Queue("events"), f.Queue("events-dlq")
	direct := sqsqueue.New(sqsClient(f), sqsqueue.Config{QueueURL: dlq.URL, DLQURL: main.URL})
	_, err := direct.Send(t.Context(), []byte(`{}`), eventAttrs())
	require.NoError(t, err)
	dls, err := reopen(f).ListDeadLetters(t.Context(), 10)
	require.NoError(t, err)
	require.Len(t, dls, 1)
	assert.Equal(t, "max receives exceeded", dls[0].Reason)
	assert.Zero(t, dls[0].Attempts)
	assert.Equal(t, f.Messages("events-dlq")[0].SentAt.UnixMilli(), dls[0].At.UnixMilli())
	assert.Equal(t, eventAttrs(), dls[0].Attributes)
}

func TestErrors(t *testing.T) {
	f := newFake(t)
	missing := sqsqueue.New(sqsClient(f), sqsqueue.Config{QueueURL: f.Queue("nope").URL, DLQURL: f.Queue("nope-dlq").URL})
	_, err := missing.Send(t.Context(), []byte(`{}`), nil)
	var notExist *types.QueueDoesNotExist
	assert.ErrorAs(t, err, &notExist)
	assert.ErrorContains(t, err, "sqsqueue: send")
	_, err = missing.Depth(t.Context())
	assert.ErrorAs(t, err, &notExist)

	q := reopen(f)
	err = q.ChangeVisibility(t.Context(), "garbage", time.Second)
	assert.ErrorIs(t, err, queue.ErrNotFound)
	err = q.Delete(t.Context(), "garbage")
	assert.ErrorIs(t, err, queue.ErrNotFound)
	var invalid *types.ReceiptHandleIsInvalid
	assert.ErrorAs(t, err, &invalid, "the SDK error is kept")
}

// TestFakeEnforcesSQSRules sends straight through the SDK, past the driver's
// own check, so the fake's rules are tested against SQS's documented ones
// and not against the code they are meant to check.
func TestFakeEnforcesSQSRules(t *testing.T) {
	f := newFake(t)
	c := sqsClient(f)
	url := f.Queue("events").URL
	attr := map[string]types.MessageAttributeValue{"a": {DataType: aws.String("String"), StringValue: aws.String("xy")}}
	atLimit := strings.Repeat("b", queue.MaxMessageSize-len("a")-len("String")-len("xy"))
	tests := []struct {
		name string
		body string
		ok   bool
	}{
		{"exactly 1 MiB with the attribute", atLimit, true},
		{"one byte more", atLimit + "b", false},
		{"U+FFFF", "{\"c\":\"\uFFFF\"}", false},
		{"U+FFFE", "{\"c\":\"\uFFFE\"}", false},
		{"U+FFFD", "{\"c\":\"\uFFFD\"}", true},
		{"a control character", "{\"c\":\"\x1f\"}", false},
		{"tab, CR, LF and an emoji", "{\"c\":\"\t\r\n\U0001F600\"}", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.ok, queue.Fits([]byte(tc.body), map[string]string{"a": "xy"}) == nil, "queue.Fits agrees")
			_, err := c.SendMessage(t.Context(), &sqs.SendMessageInput{QueueUrl: aws.String(url), MessageBody: aws.String(tc.body), MessageAttributes: attr})
			if tc.ok {
				require.NoError(t, err)
				return
			}
			var ae smithy.APIError
			require.ErrorAs(t, err, &ae)
			assert.Contains(t, []string{"InvalidMessageContents", "InvalidParameterValue"}, ae.ErrorCode())
		})
	}
}
