package dynamostore

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"supportpipe/internal/ports/store"
	"supportpipe/internal/support/conversation"
)

// The delivery log (docs/deliveries.md) lives in two places, both read by
// key, neither through the index (whose entries would cost a write each):
//
//	DLOG#<day>[#<class>]  <at>#<random>   e: packed entries, ttl
//	DLV#<acct>#<conv>     IDEM#<key>      a completion's idempotency record; e: its entry
//	DLV#<acct>#<conv>     LOG#<at>#<random>  e: one entry, ttl
//
// The first is the time line: what one write logged (a processor batch's
// completions, or its other entries) is one item, so the log costs a
// batch one write unit, not one per webhook. Its class is empty for the
// usual outcomes (processed, duplicate, redelivered) and names the rare
// ones (failed, dead_lettered, ignored, invalid, and redriven for any entry
// of a redriven message), so that asking for those reads only them. The
// second is a conversation's log: its completions' entries ride on their
// idempotency records (ScopedKey keys), written anyway, and its other
// entries are items of their own. <at> is unix ns, 19 digits, so that
// string order is time order; an item's is its newest entry's.

const (
	timelinePrefix = "DLOG#"
	convLogPrefix  = "DLV#"
	convLogSK      = "LOG#"
	attrEntries    = "e"
	// maxEntryBytes keeps a time line item within one write unit (1 KB)
	// with its keys and TTL; an entry with a long reason may need two.
	maxEntryBytes = 900
)

// classRedriven is the time line class of every entry of a redriven message.
const classRedriven = store.DeliveryRedriven

// timelineClasses are the time line's classes in the order entries of one
// instant are listed.
var timelineClasses = []string{"", classRedriven, store.DeliveryFailed, store.DeliveryDeadLettered,
	store.DeliveryIgnored, store.DeliveryInvalid}

func classOf(d store.Delivery) string {
	switch {
	case d.Redriven:
		return classRedriven
	case d.Outcome == store.DeliveryProcessed, d.Outcome == store.DeliveryDuplicate, d.Outcome == store.DeliveryRedelivered:
		return ""
	case slices.Contains(timelineClasses, d.Outcome):
		return d.Outcome
	}
	return "" // an outcome this version does not know: listed with the usual ones
}

// classesFor are the classes that may hold entries with outcome o (a
// query's Outcome).
func classesFor(o string) []string {
	switch o {
	case "":
		return timelineClasses
	case store.DeliveryRedriven:
		return []string{classRedriven}
	case store.DeliveryFailed, store.DeliveryDeadLettered, store.DeliveryIgnored, store.DeliveryInvalid:
		return []string{o, classRedriven}
	}
	return []string{"", classRedriven}
}

func timelinePK(day, class string) string {
	if class == "" {
		return timelinePrefix + day
	}
	return timelinePrefix + day + "#" + class
}

func convLogPK(k conversation.Key) string {
	return convLogPrefix + strconv.FormatInt(k.AccountID, 10) + "#" + strconv.FormatInt(k.ConversationID, 10)
}

func nsKey(t time.Time) string { return fmt.Sprintf("%019d", t.UnixNano()) }

func randomSuffix() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func dayOf(t time.Time) string { return t.UTC().Format(time.DateOnly) }

// LogDeliveries implements store.DeliveryLog: the entries' time line items,
// and an item in each conversation's log.
func (s *Store) LogDeliveries(ctx context.Context, ds ...store.Delivery) error {
	ds = store.Stamped(ds, time.Now())
	if err := s.logTimeline(ctx, ds); err != nil {
		return err
	}
	for _, d := range ds {
		if d.ConversationID == 0 {
			continue
		}
		if err := s.logConversation(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// logTimeline writes entries to the time line: one item per class, split
// where an item would outgrow one write unit.
func (s *Store) logTimeline(ctx context.Context, ds []store.Delivery) error {
	byClass := map[string][]store.Delivery{}
	for _, d := range ds {
		c := classOf(d)
		byClass[c] = append(byClass[c], d)
	}
	for _, class := range timelineClasses {
		// Newest first inside an item too, as the log is listed.
		group := byClass[class]
		slices.SortStableFunc(group, func(a, b store.Delivery) int { return b.At.Compare(a.At) })
		for len(group) > 0 {
			n := 1
			for n < len(group) && len(encodeEntries(group[:n+1])) <= maxEntryBytes {
				n++
			}
			if err := s.putTimeline(ctx, class, group[:n]); err != nil {
				return err
			}
			group = group[n:]
		}
	}
	return nil
}

func (s *Store) putTimeline(ctx context.Context, class string, ds []store.Delivery) error {
	newest := ds[0].At // ds is sorted newest first
	item := map[string]types.AttributeValue{
		attrPK:      str(timelinePK(dayOf(newest), class)),
		attrSK:      str(nsKey(newest) + "#" + randomSuffix()),
		attrEntries: &types.AttributeValueMemberB{Value: encodeEntries(ds)},
		attrTTL:     num(ttl(newest.Add(store.DeliveryRetention))),
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("log deliveries: %w", err)
	}
	return nil
}

func (s *Store) logConversation(ctx context.Context, d store.Delivery) error {
	k := conversation.Key{AccountID: d.AccountID, ConversationID: d.ConversationID}
	item := map[string]types.AttributeValue{
		attrPK:      str(convLogPK(k)),
		attrSK:      str(convLogSK + nsKey(d.At) + "#" + randomSuffix()),
		attrEntries: &types.AttributeValueMemberB{Value: encodeEntries([]store.Delivery{d})},
		attrTTL:     num(ttl(d.At.Add(store.DeliveryRetention))),
	}
	if _, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item}); err != nil {
		return fmt.Errorf("log delivery: %w", err)
	}
	return nil
}

// Deliveries implements store.DeliveryLog: a conversation's log with one
// query of its partition, the time line with queries of the day
// partitions of the classes that can hold what q asks for.
func (s *Store) Deliveries(ctx context.Context, q store.DeliveryQuery) (store.DeliveryPage, error) {
	q = q.Window(time.Now())
	if q.Conversation != nil {
		return s.conversationLog(ctx, q)
	}
	return s.timeline(ctx, q)
}

// position orders entries newest first. For the time line: item key
// descending, then class in timelineClasses order, then the entry's place
// in its item. For a conversation: entry time descending, then item key.
type position struct {
	sk    string
	class int
	i     int
}

func (p position) before(o position) bool { // p is listed before o
	if p.sk != o.sk {
		return p.sk > o.sk
	}
	if p.class != o.class {
		return p.class < o.class
	}
	return p.i < o.i
}

func (p position) cursor() string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%s|%d|%d", p.sk, p.class, p.i))
}

func parseCursor(c string) (*position, error) {
	if c == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	parts := strings.Split(string(b), "|")
	if err != nil || len(parts) != 3 || len(parts[0]) < 19 {
		return nil, store.ErrBadCursor
	}
	var p position
	var err1, err2 error
	p.sk = parts[0]
	p.class, err1 = strconv.Atoi(parts[1])
	p.i, err2 = strconv.Atoi(parts[2])
	if _, err3 := strconv.ParseInt(p.sk[:19], 10, 64); err1 != nil || err2 != nil || err3 != nil {
		return nil, store.ErrBadCursor
	}
	return &p, nil
}

func entriesOf(item map[string]types.AttributeValue) ([]store.Delivery, error) {
	b, ok := item[attrEntries].(*types.AttributeValueMemberB)
	if !ok {
		return nil, nil
	}
	return decodeEntries(b.Value)
}

// conversationLog reads the conversation's partition, which holds only its
// entries (and idempotency records), and pages through them in memory.
func (s *Store) conversationLog(ctx context.Context, q store.DeliveryQuery) (store.DeliveryPage, error) {
	after, err := parseCursor(q.Cursor)
	if err != nil {
		return store.DeliveryPage{}, err
	}
	type entry struct {
		d   store.Delivery
		pos position
	}
	var list []entry
	p := dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
		TableName:                 &s.table,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": attrPK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(convLogPK(*q.Conversation))},
	})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return store.DeliveryPage{}, fmt.Errorf("query delivery log: %w", err)
		}
		for _, item := range page.Items {
			ds, err := entriesOf(item)
			if err != nil {
				return store.DeliveryPage{}, err
			}
			for i, d := range ds {
				if q.Matches(d) {
					list = append(list, entry{d, position{sk: nsKey(d.At) + "#" + getStr(item, attrSK), i: i}})
				}
			}
		}
	}
	slices.SortFunc(list, func(a, b entry) int {
		if a.pos.before(b.pos) {
			return -1
		}
		if b.pos.before(a.pos) {
			return 1
		}
		return 0
	})
	start := 0
	if after != nil {
		start, _ = slices.BinarySearchFunc(list, *after, func(e entry, p position) int {
			if e.pos.before(p) || e.pos == p {
				return -1
			}
			return 1
		})
	}
	var out store.DeliveryPage
	limit := q.PageSize()
	for i := start; i < len(list); i++ {
		if len(out.Deliveries) == limit {
			out.Next = list[i-1].pos.cursor()
			break
		}
		out.Deliveries = append(out.Deliveries, list[i].d)
	}
	return out, nil
}

// stream pages through one time line partition, newest first.
type stream struct {
	class int
	p     *dynamodb.QueryPaginator
	items []map[string]types.AttributeValue
}

func (st *stream) head(ctx context.Context) (map[string]types.AttributeValue, error) {
	for len(st.items) == 0 && st.p.HasMorePages() {
		page, err := st.p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("query delivery log: %w", err)
		}
		st.items = page.Items
	}
	if len(st.items) == 0 {
		return nil, nil
	}
	return st.items[0], nil
}

// timeline walks the day partitions from the newest day (the cursor's, or
// today's) back to q.Since's, merging the classes' partitions of each day.
func (s *Store) timeline(ctx context.Context, q store.DeliveryQuery) (store.DeliveryPage, error) {
	after, err := parseCursor(q.Cursor)
	if err != nil {
		return store.DeliveryPage{}, err
	}
	classes := classesFor(q.Outcome)
	limit := q.PageSize()
	var out store.DeliveryPage
	var last position
	day := time.Now().UTC()
	if after != nil {
		ns, _ := strconv.ParseInt(after.sk[:19], 10, 64)
		day = time.Unix(0, ns).UTC()
	}
	for ; dayOf(day) >= dayOf(q.Since); day = day.AddDate(0, 0, -1) {
		var streams []*stream
		for _, class := range classes {
			cond := "#pk = :pk AND #sk >= :lo"
			values := map[string]types.AttributeValue{":pk": str(timelinePK(dayOf(day), class)), ":lo": str(nsKey(q.Since))}
			if after != nil && dayOf(day) == dayOf(time.Unix(0, mustNS(after.sk)).UTC()) {
				// The cursor's item and the older ones (BETWEEN wants lo ≤ hi).
				cond = "#pk = :pk AND #sk BETWEEN :lo AND :hi"
				values[":hi"] = str(max(after.sk, nsKey(q.Since)))
			}
			streams = append(streams, &stream{class: slices.Index(timelineClasses, class), p: dynamodb.NewQueryPaginator(s.db, &dynamodb.QueryInput{
				TableName:                 &s.table,
				ConsistentRead:            aws.Bool(true),
				KeyConditionExpression:    aws.String(cond),
				ExpressionAttributeNames:  map[string]string{"#pk": attrPK, "#sk": attrSK},
				ExpressionAttributeValues: values,
				ScanIndexForward:          aws.Bool(false),
				Limit:                     aws.Int32(int32(min(limit, 100))),
			})})
		}
		for {
			var next *stream
			var nextItem map[string]types.AttributeValue
			for _, st := range streams {
				item, err := st.head(ctx)
				if err != nil {
					return store.DeliveryPage{}, err
				}
				if item == nil {
					continue
				}
				if next == nil || (position{sk: getStr(item, attrSK), class: st.class}).before(position{sk: getStr(nextItem, attrSK), class: next.class}) {
					next, nextItem = st, item
				}
			}
			if next == nil {
				break
			}
			next.items = next.items[1:]
			ds, err := entriesOf(nextItem)
			if err != nil {
				return store.DeliveryPage{}, err
			}
			for i, d := range ds {
				pos := position{sk: getStr(nextItem, attrSK), class: next.class, i: i}
				if after != nil && !after.before(pos) || !q.Matches(d) {
					continue
				}
				if len(out.Deliveries) == limit {
					out.Next = last.cursor()
					return out, nil
				}
				out.Deliveries = append(out.Deliveries, d)
				last = pos
			}
		}
	}
	return out, nil
}

func mustNS(sk string) int64 {
	ns, _ := strconv.ParseInt(sk[:19], 10, 64)
	return ns
}

// completionEntries are the entries of the completions written.
func completionEntries(cs []store.Completion, skipped []int) []store.Delivery {
	var ds []store.Delivery
	for i, c := range cs {
		if c.Delivery != nil && !slices.Contains(skipped, i) {
			ds = append(ds, *c.Delivery)
		}
	}
	return ds
}

// logCompleted logs the entries of the completions written: on the time
// line, and in a conversation's log when no key of theirs carried it there.
func (s *Store) logCompleted(ctx context.Context, cs []store.Completion, skipped []int) error {
	ds := store.Stamped(completionEntries(cs, skipped), time.Now())
	if len(ds) == 0 {
		return nil
	}
	err := s.logTimeline(ctx, ds)
	for i, c := range cs {
		if c.Delivery == nil || c.Delivery.ConversationID == 0 || slices.Contains(skipped, i) || carrier(c) != "" {
			continue
		}
		err = cmp.Or(err, s.logConversation(ctx, store.Stamped([]store.Delivery{*c.Delivery}, time.Now())[0]))
	}
	if err != nil {
		return errors.Join(store.ErrDeliveryLog, err)
	}
	return nil
}

// carrier is the key whose idempotency record carries c's entry: the
// first of its keys scoped to the entry's conversation, or "".
func carrier(c store.Completion) string {
	if c.Delivery == nil || c.Delivery.ConversationID == 0 {
		return ""
	}
	want := conversation.Key{AccountID: c.Delivery.AccountID, ConversationID: c.Delivery.ConversationID}
	for _, k := range slices.Sorted(slices.Values(c.Keys)) {
		if conv, _, ok := store.SplitScopedKey(k); ok && conv == want {
			return k
		}
	}
	return ""
}

// idemKey is the table key of an idempotency record: with its
// conversation's log when the key is scoped (store.ScopedKey), else an
// item of its own.
func idemKey(k string) (pk, sk string) {
	if conv, name, ok := store.SplitScopedKey(k); ok {
		return convLogPK(conv), idemPrefix + name
	}
	return idemPrefix + k, "IDEM"
}
