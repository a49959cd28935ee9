package dynamostore_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/truora/minidyn/server"

	"supportpipe/internal/devtools/waitfor"
	"supportpipe/internal/ports/store"
	"supportpipe/internal/ports/store/dynamostore"
	"supportpipe/internal/ports/store/storetest"
	"supportpipe/internal/support/conversation"
)

func newClient(url string) *dynamodb.Client {
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("test", "test", "")}
	return dynamodb.NewFromConfig(cfg, func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(url) })
}

var tables atomic.Int64

// newTable creates a table with a fresh name on the server behind db and
// waits until it is usable: dynalite answers ResourceNotFound while a table
// is CREATING; minidyn leaves the status empty, so the SDK's waiter would
// never return.
func newTable(t *testing.T, db *dynamodb.Client) string {
	t.Helper()
	ctx := t.Context()
	name := fmt.Sprintf("store-%d", tables.Add(1))
	require.NoError(t, dynamostore.CreateTable(ctx, db, name))
	waitfor.Until(t, func() bool {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		if err != nil {
			return false
		}
		s := out.Table.TableStatus
		return s == types.TableStatusActive || s == ""
	}, "table %s active", name)
	return name
}

func opener(db *dynamodb.Client) func(t *testing.T) store.Store {
	return func(t *testing.T) store.Store { return dynamostore.New(db, newTable(t, db)) }
}

// fake serves minidyn, records the operations called, and can answer the
// next calls of an operation with a canned response instead.
type fake struct {
	next   http.Handler
	mu     sync.Mutex
	calls  map[string]int
	bodies map[string][]string
	canned map[string][]reply
}

type reply struct {
	status int
	body   string
}

func newFake(t *testing.T) (*fake, *dynamodb.Client) {
	f := &fake{next: server.NewServer(), calls: map[string]int{}, bodies: map[string][]string{}, canned: map[string][]reply{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, newClient(srv.URL)
}

func (f *fake) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_, op, _ := strings.Cut(r.Header.Get("X-Amz-Target"), ".")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	f.mu.Lock()
	f.calls[op]++
	f.bodies[op] = append(f.bodies[op], string(body))
	q := f.canned[op]
	var rep *reply
	if len(q) > 0 {
		rep, f.canned[op] = &q[0], q[1:]
	}
	f.mu.Unlock()
	if rep == nil {
		f.next.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(rep.status)
	io.WriteString(w, rep.body)
}

func (f *fake) answer(op string, replies ...reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.canned[op] = append(f.canned[op], replies...)
}

func (f *fake) requests(op string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bodies[op]
}

func (f *fake) count(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func TestConformanceMinidyn(t *testing.T) {
	f, db := newFake(t)
	storetest.Run(t, opener(db), storetest.Options{KeepsRemovedFields: true})
	assert.Positive(t, f.count("Query"))
	assert.Zero(t, f.count("Scan"), "the store must never scan the table")
}

func TestConformanceDynalite(t *testing.T) {
	db := newClient(startDynalite(t))
	storetest.Run(t, opener(db), storetest.Options{NoTransactions: true})
}

// startDynalite runs dynalite from _tools on a free port and returns its URL.
func startDynalite(t *testing.T) string {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("dynalite: node is not on PATH")
	}
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "..", "_tools", "node_modules", "dynalite"))
	require.NoError(t, err)
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		t.Skipf("dynalite: not installed in %s (cd _tools && npm ci)", dir)
	}
	script := fmt.Sprintf(`const s=require(%q)({createTableMs:0,deleteTableMs:0,updateTableMs:0});`+
		`s.listen(0,'127.0.0.1',()=>console.log('PORT '+s.address().port))`, dir)
	cmd := exec.Command(node, "-e", script)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})

	// The port, or "" once node has closed its output without one.
	port := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if p, ok := strings.CutPrefix(sc.Text(), "PORT "); ok {
				port <- p
				io.Copy(io.Discard, out)
				return
			}
		}
		port <- ""
	}()
	p := waitfor.Chan(t, port, "dynalite reports its port")
	if p == "" {
		_ = cmd.Wait()
		t.Fatalf("dynalite exited without reporting its port; stderr: %s", stderr.String())
	}
	return "http://127.0.0.1:" + p
}

// TestSchema pins the table layout the CDK stack declares too. It reads
// the request, since the fakes describe tables only partly.
func TestSchema(t *testing.T) {
	f, db := newFake(t)
	require.NoError(t, dynamostore.CreateTable(t.Context(), db, "support"))
	reqs := f.requests("CreateTable")
	require.Len(t, reqs, 1)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(reqs[0]), &got))
	var want map[string]any
	require.NoError(t, json.Unmarshal([]byte(`{
		"TableName": "support",
		"BillingMode": "PAY_PER_REQUEST",
		"AttributeDefinitions": [
			{"AttributeName": "pk", "AttributeType": "S"},
			{"AttributeName": "sk", "AttributeType": "S"},
			{"AttributeName": "gsi1pk", "AttributeType": "S"},
			{"AttributeName": "gsi1sk", "AttributeType": "S"}
		],
		"KeySchema": [
			{"AttributeName": "pk", "KeyType": "HASH"},
			{"AttributeName": "sk", "KeyType": "RANGE"}
		],
		"GlobalSecondaryIndexes": [{
			"IndexName": "gsi1",
			"KeySchema": [
				{"AttributeName": "gsi1pk", "KeyType": "HASH"},
				{"AttributeName": "gsi1sk", "KeyType": "RANGE"}
			],
			"Projection": {"ProjectionType": "ALL"}
		}]
	}`), &want))
	assert.Equal(t, want, got)
}

// TestItems checks the attributes that other parts of the system rely on:
// the TTL attribute DynamoDB expires items by, and the sparse index keys.
func TestItems(t *testing.T) {
	ctx := t.Context()
	_, db := newFake(t)
	name := newTable(t, db)
	st := dynamostore.New(db, name)
	k := conversation.Key{AccountID: 1, ConversationID: 7}
	first := time.Date(2026, 3, 1, 9, 0, 0, 5, time.UTC)
	exp := time.Date(2026, 3, 2, 9, 0, 0, 500, time.UTC)
	apply := func(m conversation.Fact) func(*conversation.State) bool {
		return func(s *conversation.State) bool {
			return s.Apply(conversation.Observation{Key: k, Messages: []conversation.Fact{m}}, false)
		}
	}
	get := func(t *testing.T, pk, sk string) map[string]types.AttributeValue {
		out, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &name, ConsistentRead: aws.Bool(true),
			Key: map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}}})
		require.NoError(t, err)
		require.NotNil(t, out.Item, "no item %s %s", pk, sk)
		return out.Item
	}
	s := func(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
	n := func(v int64) types.AttributeValue { return &types.AttributeValueMemberN{Value: fmt.Sprint(v)} }

	cases := []struct {
		name    string
		do      func(t *testing.T)
		pk, sk  string
		want    map[string]types.AttributeValue // attributes that must be present
		without []string                        // attributes that must be absent
	}{
		{
			name: "waiting conversation is in the index",
			do: func(t *testing.T) {
				_, err := st.UpdateConversation(ctx, k, apply(conversation.Fact{MessageID: 1, At: first, Kind: conversation.KindCustomer}))
				require.NoError(t, err)
			},
			pk: "CONV#1#7", sk: "STATE",
			want: map[string]types.AttributeValue{
				"version": n(1), "gsi1pk": s("WAITING"), "gsi1sk": s(fmt.Sprintf("%019d#1#7", first.UnixNano())),
			},
		},
		{
			name: "answered conversation leaves the index",
			do: func(t *testing.T) {
				_, err := st.UpdateConversation(ctx, k, apply(conversation.Fact{MessageID: 2, At: first.Add(time.Minute), Kind: conversation.KindHuman}))
				require.NoError(t, err)
			},
			pk: "CONV#1#7", sk: "STATE",
			want:    map[string]types.AttributeValue{"version": n(2)},
			without: []string{"gsi1pk", "gsi1sk"},
		},
		{
			name: "idempotency key expires by ttl, rounded up",
			do: func(t *testing.T) {
				require.NoError(t, st.Complete(ctx, store.Completion{Keys: []string{"msg:1"}, ExpiresAt: exp}))
			},
			pk: "IDEM#msg:1", sk: "IDEM",
			want: map[string]types.AttributeValue{"ttl": n(exp.Unix() + 1), "exp": n(exp.UnixNano())},
		},
		{
			name: "attempts expire by ttl",
			do: func(t *testing.T) {
				_, err := st.RecordFailure(ctx, "m1", "timeout", exp.Truncate(time.Second))
				require.NoError(t, err)
			},
			pk: "ATTEMPT#m1", sk: "ATTEMPT",
			want: map[string]types.AttributeValue{"ttl": n(exp.Unix()), "attempts": n(1)},
		},
		{
			name: "counters are prefixed attributes",
			do: func(t *testing.T) {
				require.NoError(t, st.AddCounters(ctx, "2026-03-01", map[string]int64{"rejected.bad_signature": 2, "ttl": 1}))
			},
			pk: "COUNTERS#2026-03-01", sk: "COUNTERS",
			want:    map[string]types.AttributeValue{"c.rejected.bad_signature": n(2), "c.ttl": n(1)},
			without: []string{"ttl"},
		},
		{
			// Every processor batch writes the day's item, and every
			// drafter batch its own: neither pays for the other's names.
			name: "the drafter's counters are an item of their own",
			do: func(t *testing.T) {
				require.NoError(t, st.Complete(ctx,
					store.Completion{Keys: []string{"msg:c1"}, ExpiresAt: exp, Counts: map[string]map[string]int64{"2026-03-02": {"processed": 1}}},
					store.Completion{Keys: []string{"drafted:c1"}, ExpiresAt: exp,
						Counts: map[string]map[string]int64{"2026-03-02": {"drafts_made": 1, "draft_us.31": 1}}}))
				require.NoError(t, st.AddCounters(ctx, "2026-03-02", map[string]int64{"drafts_failed": 1, "failed": 1}))
				c, err := st.Counters(ctx, "2026-03-02")
				require.NoError(t, err)
				assert.Equal(t, map[string]int64{"processed": 1, "failed": 1, "drafts_made": 1, "draft_us.31": 1, "drafts_failed": 1}, c,
					"the day's counters are both items'")
				assert.NotContains(t, get(t, "COUNTERS#2026-03-02", "COUNTERS"), "c.drafts_made")
			},
			pk: "COUNTERS#2026-03-02", sk: "COUNTERS#draft",
			want:    map[string]types.AttributeValue{"c.drafts_made": n(1), "c.draft_us.31": n(1), "c.drafts_failed": n(1)},
			without: []string{"c.processed", "c.failed"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.do(t)
			item := get(t, tc.pk, tc.sk)
			for attr, want := range tc.want {
				assert.Equal(t, want, item[attr], "attribute %s", attr)
			}
			for _, attr := range tc.without {
				assert.NotContains(t, item, attr)
			}
		})
	}
}

// TestRetries covers what the fakes never do on their own: transaction
// conflicts and unprocessed batch keys.
func TestRetries(t *testing.T) {
	const day = "2026-03-01"
	conflictTx := reply{400, `{"__type":"TransactionCanceledException","message":"cancelled",` +
		`"CancellationReasons":[{"Code":"None"},{"Code":"TransactionConflict"}]}`}
	duplicateTx := reply{400, `{"__type":"TransactionCanceledException","message":"cancelled",` +
		`"CancellationReasons":[{"Code":"ConditionalCheckFailed"},{"Code":"TransactionConflict"}]}`}
	conflict := reply{400, `{"__type":"com.amazonaws.dynamodb.v20120810#TransactionConflictException","message":"ongoing transaction"}`}
	complete := func(st store.Store) error {
		return st.Complete(t.Context(), store.Completion{Keys: []string{"msg:1"}, ExpiresAt: time.Now().Add(time.Hour),
			Counts: map[string]map[string]int64{day: map[string]int64{"processed": 1}}})
	}

	cases := []struct {
		name     string
		op       string
		replies  []reply
		do       func(st store.Store) error
		wantErr  error
		calls    int
		counters map[string]int64
	}{
		{
			name: "complete retries a conflicting transaction", op: "TransactWriteItems",
			replies: []reply{conflictTx, conflictTx}, do: complete,
			calls: 3, counters: map[string]int64{"processed": 1},
		},
		{
			name: "complete does not retry a failed condition", op: "TransactWriteItems",
			replies: []reply{duplicateTx}, do: complete, wantErr: store.ErrDuplicate,
			calls: 1, counters: map[string]int64{},
		},
		{
			name: "add counters retries while a transaction holds the item", op: "UpdateItem",
			replies: []reply{conflict, conflict},
			do: func(st store.Store) error {
				return st.AddCounters(t.Context(), day, map[string]int64{"processed": 2})
			},
			calls: 3, counters: map[string]int64{"processed": 2},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f, db := newFake(t)
			st := dynamostore.New(db, newTable(t, db))
			f.answer(tc.op, tc.replies...)
			err := tc.do(st)
			if tc.wantErr != nil {
				assert.ErrorIs(t, err, tc.wantErr)
			} else {
				assert.NoError(t, err)
			}
			assert.Equal(t, tc.calls, f.count(tc.op))
			got, err := st.Counters(t.Context(), day)
			require.NoError(t, err)
			assert.Equal(t, tc.counters, got)
		})
	}

	t.Run("seen asks again for unprocessed keys", func(t *testing.T) {
		f, db := newFake(t)
		name := newTable(t, db)
		st := dynamostore.New(db, name)
		require.NoError(t, complete(st))
		f.answer("BatchGetItem", reply{200, fmt.Sprintf(`{"Responses":{%[1]q:[]},"UnprocessedKeys":{%[1]q:`+
			`{"ProjectionExpression":"#pk, #exp, #own","ExpressionAttributeNames":{"#pk":"pk","#exp":"exp","#own":"owner"},`+
			`"Keys":[{"pk":{"S":"IDEM#msg:1"},"sk":{"S":"IDEM"}},{"pk":{"S":"IDEM#msg:2"},"sk":{"S":"IDEM"}}]}}}`, name)})
		seen, err := st.Seen(t.Context(), "msg:1", "msg:2")
		require.NoError(t, err)
		assert.Equal(t, map[string]string{"msg:1": ""}, seen)
		assert.Equal(t, 2, f.count("BatchGetItem"))
	})
}

// TestConversationWrittenAsText reads an item in the format written before
// states were deflated.
func TestConversationWrittenAsText(t *testing.T) {
	_, db := newFake(t)
	name := newTable(t, db)
	_, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &name, Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "CONV#7#42"}, "sk": &types.AttributeValueMemberS{Value: "STATE"},
		"version": &types.AttributeValueMemberN{Value: "3"},
		"state":   &types.AttributeValueMemberS{Value: `{"account_id":7,"conversation_id":42,"status":"open"}`},
	}})
	require.NoError(t, err)
	st, ok, err := dynamostore.New(db, name).Conversation(t.Context(), conversation.Key{AccountID: 7, ConversationID: 42})
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "open", st.Status)
	assert.Equal(t, int64(3), st.Version)
}

// TestCountersWrittenOnOneItem reads a day whose drafter's counters were
// written on the day's one item, before they had an item of their own, and
// then on their own: they add up.
func TestCountersWrittenOnOneItem(t *testing.T) {
	_, db := newFake(t)
	name := newTable(t, db)
	_, err := db.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: &name, Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "COUNTERS#2026-03-01"}, "sk": &types.AttributeValueMemberS{Value: "COUNTERS"},
		"c.processed": &types.AttributeValueMemberN{Value: "5"}, "c.drafts_made": &types.AttributeValueMemberN{Value: "2"},
	}})
	require.NoError(t, err)
	st := dynamostore.New(db, name)
	require.NoError(t, st.AddCounters(t.Context(), "2026-03-01", map[string]int64{"drafts_made": 1, "processed": 1}))
	c, err := st.Counters(t.Context(), "2026-03-01")
	require.NoError(t, err)
	assert.Equal(t, map[string]int64{"processed": 6, "drafts_made": 3}, c)
}
