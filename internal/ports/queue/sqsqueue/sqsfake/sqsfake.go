// Package sqsfake is an in-process SQS for tests. It speaks the AWS JSON 1.0
// protocol of SQS (POST /, X-Amz-Target: AmazonSQS.<Op>) for the operations
// sqsqueue uses, over in-memory queues with visibility timeouts, receive
// counts and receipt handles. No SQS emulator speaks this protocol, so the
// tests bring their own; it is a package so that tests of the deployed
// binaries can point them at it too. Where the SQS documentation leaves
// behaviour open, the fake picks the strict reading: a stale receipt handle
// deletes nothing (as documented) and cannot change visibility
// (ReceiptHandleIsInvalid).
package sqsfake

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Server is a running fake. Its queues live at URL/000000000000/<name>.
type Server struct {
	// URL is the endpoint to give the SDK (BaseEndpoint, or
	// AWS_ENDPOINT_URL_SQS for another process).
	URL string

	mu       sync.Mutex
	queues   map[string]*fakeQueue // by URL
	byARN    map[string]*fakeQueue
	receipts map[string]bool // every handle ever issued
	calls    []Call
	fail     map[string]APIError // op -> error to answer once
}

// Call is one request the fake received: the operation and its JSON body.
type Call struct {
	Op   string
	Body map[string]any
}

// APIError is an error answer: Type is the AWS error code as SQS sends it in
// __type, such as "com.amazonaws.sqs#QueueDoesNotExist".
type APIError struct {
	Type, Message string
}

// Queue names a queue the way its clients address it.
type Queue struct {
	URL, ARN string
}

// Message is a copy of a stored message.
type Message struct {
	ID, Body   string
	Attributes map[string]string // message attributes, all of type String
	SentAt     time.Time
	// ReceiveCount and ReceiptHandle are those of the latest receive.
	ReceiveCount  int
	ReceiptHandle string
}

type fakeQueue struct {
	Queue
	// deadLetter is set on queues that a RedrivePolicy names as target.
	deadLetter bool
	msgs       []*fakeMsg // in send order
}

type fakeMsg struct {
	id, body  string
	attrs     map[string]attrValue
	sent      time.Time
	visibleAt time.Time
	receives  int
	receipt   string
}

type attrValue struct {
	DataType    string
	StringValue *string `json:",omitempty"`
}

// New starts a fake without queues; it stops when the test ends.
func New(tb testing.TB) *Server {
	f := &Server{queues: map[string]*fakeQueue{}, byARN: map[string]*fakeQueue{},
		receipts: map[string]bool{}, fail: map[string]APIError{}}
	srv := httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(srv.Close)
	f.URL = srv.URL
	return f
}

// CreateQueue adds an empty queue with SQS's defaults. Only a deadLetter
// queue, one that some queue's RedrivePolicy names, can be the source of
// StartMessageMoveTask.
func (f *Server) CreateQueue(name string, deadLetter bool) Queue {
	q := &fakeQueue{Queue: f.Queue(name), deadLetter: deadLetter}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queues[q.URL] = q
	f.byARN[q.ARN] = q
	return q.Queue
}

// Queue returns the URL and ARN of the named queue, whether or not it exists.
func (f *Server) Queue(name string) Queue {
	return Queue{URL: f.URL + "/000000000000/" + name, ARN: "arn:aws:sqs:us-east-1:000000000000:" + name}
}

// Messages returns copies of the messages in the named queue, in send order,
// in flight or not.
func (f *Server) Messages(name string) []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	q := f.queues[f.Queue(name).URL]
	if q == nil {
		return nil
	}
	out := make([]Message, 0, len(q.msgs))
	for _, m := range q.msgs {
		attrs := make(map[string]string, len(m.attrs))
		for k, v := range m.attrs {
			attrs[k] = *v.StringValue // sendMessage admits String values only
		}
		out = append(out, Message{ID: m.id, Body: m.body, Attributes: attrs, SentAt: m.sent,
			ReceiveCount: m.receives, ReceiptHandle: m.receipt})
	}
	return out
}

// FailNext makes the next call of op answer with the error.
func (f *Server) FailNext(op string, e APIError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[op] = e
}

// TakeCalls returns the calls so far, in order, and forgets them.
func (f *Server) TakeCalls() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.calls
	f.calls = nil
	return c
}

func (f *Server) serve(w http.ResponseWriter, r *http.Request) {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	switch {
	case r.Method != http.MethodPost || r.URL.Path != "/":
		http.Error(w, "not found", http.StatusNotFound)
		return
	case !ok || r.Header.Get("Content-Type") != "application/x-amz-json-1.0":
		writeError(w, APIError{"com.amazonaws.sqs#UnsupportedOperation", "not an AWS JSON 1.0 SQS request"})
		return
	case !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 "):
		writeError(w, APIError{"com.amazonaws.sqs#InvalidSecurity", "request is not signed"})
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		writeError(w, APIError{"com.amazonaws.sqs#InvalidParameterValue", "body: " + err.Error()})
		return
	}
	raw, _ := json.Marshal(body)

	f.mu.Lock()
	f.calls = append(f.calls, Call{op, body})
	e, failing := f.fail[op]
	delete(f.fail, op)
	f.mu.Unlock()
	if failing {
		writeError(w, e)
		return
	}

	var resp any
	var err *APIError
	switch op {
	case "SendMessage":
		resp, err = f.sendMessage(raw)
	case "ReceiveMessage":
		resp, err = f.receiveMessage(r, raw)
	case "DeleteMessage":
		resp, err = f.deleteMessage(raw)
	case "ChangeMessageVisibility":
		resp, err = f.changeMessageVisibility(raw)
	case "GetQueueAttributes":
		resp, err = f.getQueueAttributes(raw)
	case "StartMessageMoveTask":
		resp, err = f.startMessageMoveTask(raw)
	default:
		err = &APIError{"com.amazonaws.sqs#UnsupportedOperation", "operation " + op + " is not faked"}
	}
	if err != nil {
		writeError(w, *err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	json.NewEncoder(w).Encode(resp)
}

func writeError(w http.ResponseWriter, e APIError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.Type, "message": e.Message})
}

func invalid(format string, args ...any) *APIError {
	return &APIError{"com.amazonaws.sqs#InvalidParameterValue", fmt.Sprintf(format, args...)}
}

// decode reads the request into v, refusing fields the fake does not know:
// the tests should notice when the SDK sends something new.
func decode(raw []byte, v any) *APIError {
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return invalid("%v", err)
	}
	return nil
}

// lookup returns the queue with the URL; the caller holds f.mu.
func (f *Server) lookup(url string) (*fakeQueue, *APIError) {
	q, ok := f.queues[url]
	if !ok {
		return nil, &APIError{"com.amazonaws.sqs#QueueDoesNotExist", "The specified queue does not exist."}
	}
	return q, nil
}

var attrName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)

// validText reports whether s holds only the characters SQS accepts.
func validText(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		ok := r == 0x9 || r == 0xA || r == 0xD || (r >= 0x20 && r <= 0xD7FF) ||
			(r >= 0xE000 && r <= 0xFFFD) || (r >= 0x10000 && r <= 0x10FFFF)
		// A literal U+FFFD is allowed; an invalid byte decodes to it too.
		if !ok || r == utf8.RuneError && size == 1 {
			return false
		}
		i += size
	}
	return true
}

func (f *Server) sendMessage(raw []byte) (any, *APIError) {
	var in struct {
		QueueUrl          string
		MessageBody       string
		MessageAttributes map[string]attrValue
	}
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	if in.MessageBody == "" || !validText(in.MessageBody) {
		return nil, &APIError{"com.amazonaws.sqs#InvalidMessageContents", "Invalid characters found or empty body."}
	}
	if n := len(in.MessageAttributes); n > 10 {
		return nil, invalid("Number of message attributes [%d] exceeds the allowed maximum [10].", n)
	}
	size := len(in.MessageBody)
	for k, v := range in.MessageAttributes {
		if !attrName.MatchString(k) || strings.HasPrefix(strings.ToLower(k), "aws.") || strings.HasPrefix(strings.ToLower(k), "amazon.") {
			return nil, invalid("Message attribute name '%s' is invalid.", k)
		}
		if v.DataType != "String" || v.StringValue == nil || *v.StringValue == "" || !validText(*v.StringValue) {
			return nil, invalid("Message attribute '%s' must contain a non-empty value of type 'String'.", k)
		}
		size += len(k) + len(v.DataType) + len(*v.StringValue)
	}
	if size > 1<<20 {
		return nil, invalid("Message must be shorter than 1048576 bytes.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.lookup(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	m := &fakeMsg{id: uuid.NewString(), body: in.MessageBody, attrs: in.MessageAttributes, sent: now, visibleAt: now}
	q.msgs = append(q.msgs, m)
	sum := md5.Sum([]byte(in.MessageBody))
	return map[string]string{"MessageId": m.id, "MD5OfMessageBody": hex.EncodeToString(sum[:])}, nil
}

func (f *Server) receiveMessage(r *http.Request, raw []byte) (any, *APIError) {
	in := struct {
		QueueUrl                    string
		MaxNumberOfMessages         *int
		VisibilityTimeout           *int
		WaitTimeSeconds             int
		MessageAttributeNames       []string
		MessageSystemAttributeNames []string
	}{}
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	n, vis := 1, 30 // the defaults of a queue created without attributes
	if in.MaxNumberOfMessages != nil {
		n = *in.MaxNumberOfMessages
	}
	if in.VisibilityTimeout != nil {
		vis = *in.VisibilityTimeout
	}
	switch {
	case n < 1 || n > 10:
		return nil, invalid("Value %d for parameter MaxNumberOfMessages is invalid.", n)
	case vis < 0 || vis > 43200:
		return nil, invalid("Value %d for parameter VisibilityTimeout is invalid.", vis)
	case in.WaitTimeSeconds < 0 || in.WaitTimeSeconds > 20:
		return nil, invalid("Value %d for parameter WaitTimeSeconds is invalid.", in.WaitTimeSeconds)
	}
	deadline := time.Now().Add(time.Duration(in.WaitTimeSeconds) * time.Second)
	for {
		out, err := f.take(in.QueueUrl, n, time.Duration(vis)*time.Second, in.MessageAttributeNames, in.MessageSystemAttributeNames)
		if err != nil || len(out) > 0 || !time.Now().Before(deadline) || r.Context().Err() != nil {
			return map[string]any{"Messages": out}, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// take receives up to n visible messages from the queue.
func (f *Server) take(url string, n int, vis time.Duration, attrNames, sysNames []string) ([]map[string]any, *APIError) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.lookup(url)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	var out []map[string]any
	for _, m := range q.msgs {
		if len(out) == n {
			break
		}
		if m.visibleAt.After(now) {
			continue
		}
		m.receives++
		m.visibleAt = now.Add(vis)
		m.receipt = uuid.NewString() + "#" + m.id
		f.receipts[m.receipt] = true
		sum := md5.Sum([]byte(m.body))
		msg := map[string]any{"MessageId": m.id, "ReceiptHandle": m.receipt, "Body": m.body, "MD5OfBody": hex.EncodeToString(sum[:])}
		sys := map[string]string{}
		for _, name := range sysNames {
			switch name {
			case "All", "ApproximateReceiveCount":
				sys["ApproximateReceiveCount"] = strconv.Itoa(m.receives)
			}
			switch name {
			case "All", "SentTimestamp":
				sys["SentTimestamp"] = strconv.FormatInt(m.sent.UnixMilli(), 10)
			}
		}
		if len(sys) > 0 {
			msg["Attributes"] = sys
		}
		if len(attrNames) > 0 && len(m.attrs) > 0 {
			// The fake knows only "All"; sqsqueue asks for nothing else.
			msg["MessageAttributes"] = m.attrs
		}
		out = append(out, msg)
	}
	return out, nil
}

// find returns the message a receipt handle currently holds; the caller holds f.mu.
func (q *fakeQueue) find(receipt string) (int, *fakeMsg) {
	for i, m := range q.msgs {
		if m.receipt == receipt {
			return i, m
		}
	}
	return -1, nil
}

func (f *Server) deleteMessage(raw []byte) (any, *APIError) {
	var in struct{ QueueUrl, ReceiptHandle string }
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.lookup(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	if !f.receipts[in.ReceiptHandle] {
		return nil, &APIError{"com.amazonaws.sqs#ReceiptHandleIsInvalid", "The input receipt handle is invalid."}
	}
	// A stale handle, or a message already deleted: success, nothing deleted.
	if i, m := q.find(in.ReceiptHandle); m != nil {
		q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
	}
	return struct{}{}, nil
}

func (f *Server) changeMessageVisibility(raw []byte) (any, *APIError) {
	var in struct {
		QueueUrl, ReceiptHandle string
		VisibilityTimeout       *int
	}
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	if in.VisibilityTimeout == nil || *in.VisibilityTimeout < 0 || *in.VisibilityTimeout > 43200 {
		return nil, invalid("VisibilityTimeout is missing or out of range.")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.lookup(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	_, m := q.find(in.ReceiptHandle)
	if m == nil {
		return nil, &APIError{"com.amazonaws.sqs#ReceiptHandleIsInvalid", "The input receipt handle is invalid."}
	}
	now := time.Now()
	if !m.visibleAt.After(now) {
		return nil, &APIError{"com.amazonaws.sqs#MessageNotInflight", "The message referred to isn't in flight."}
	}
	m.visibleAt = now.Add(time.Duration(*in.VisibilityTimeout) * time.Second)
	return struct{}{}, nil
}

func (f *Server) getQueueAttributes(raw []byte) (any, *APIError) {
	var in struct {
		QueueUrl       string
		AttributeNames []string
	}
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	q, err := f.lookup(in.QueueUrl)
	if err != nil {
		return nil, err
	}
	var visible, notVisible, delayed int
	now := time.Now()
	for _, m := range q.msgs {
		switch {
		case !m.visibleAt.After(now):
			visible++
		case m.receives > 0:
			notVisible++
		default:
			delayed++
		}
	}
	all := map[string]string{
		"ApproximateNumberOfMessages":           strconv.Itoa(visible),
		"ApproximateNumberOfMessagesNotVisible": strconv.Itoa(notVisible),
		"ApproximateNumberOfMessagesDelayed":    strconv.Itoa(delayed),
		"QueueArn":                              q.ARN,
	}
	out := map[string]string{}
	for _, name := range in.AttributeNames {
		v, ok := all[name]
		if !ok {
			return nil, &APIError{"com.amazonaws.sqs#InvalidAttributeName", "Unknown Attribute " + name + "."}
		}
		out[name] = v
	}
	return map[string]any{"Attributes": out}, nil
}

// startMessageMoveTask moves every visible message at once; SQS does it in
// the background, which the tests allow for by waiting.
func (f *Server) startMessageMoveTask(raw []byte) (any, *APIError) {
	var in struct{ SourceArn, DestinationArn string }
	if err := decode(raw, &in); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	src, dst := f.byARN[in.SourceArn], f.byARN[in.DestinationArn]
	switch {
	case src == nil || dst == nil:
		return nil, &APIError{"com.amazonaws.sqs#ResourceNotFoundException", "The resource that you specified for the SourceArn or DestinationArn parameter doesn't exist."}
	case !src.deadLetter:
		return nil, &APIError{"com.amazonaws.sqs#UnsupportedOperation", "Source queue must be configured as a Dead Letter Queue."}
	}
	now := time.Now()
	var keep []*fakeMsg
	for _, m := range src.msgs {
		if m.visibleAt.After(now) {
			keep = append(keep, m)
			continue
		}
		// Redriven messages are new messages: new id, receive count and enqueue time.
		dst.msgs = append(dst.msgs, &fakeMsg{id: uuid.NewString(), body: m.body, attrs: m.attrs, sent: now, visibleAt: now})
	}
	src.msgs = keep
	return map[string]string{"TaskHandle": uuid.NewString()}, nil
}
