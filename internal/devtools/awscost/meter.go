package awscost

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Schema names the key attributes of the metered table and of its global
// secondary index (projection ALL), which decide what a write costs.
type Schema struct {
	PK, SK       string
	IndexPK      string
	IndexSK      string
	IndexProject bool // the index projects all attributes
}

// Usage is what the metered requests consumed.
type Usage struct {
	WRU      float64            // write request units, table and index
	IndexWRU float64            // the part of WRU spent on the index
	RRU      float64            // read request units
	Requests map[string]int     // by operation
	Units    map[string]float64 // WRU or RRU by operation
	// Items are the write units by item kind: the partition key's prefix
	// and the sort key's, up to their first '#'.
	Items map[string]float64
}

func (u Usage) String() string {
	ops := slices.Sorted(maps.Keys(u.Requests))
	var b strings.Builder
	for _, op := range ops {
		fmt.Fprintf(&b, " %s=%d (%.0f units)", op, u.Requests[op], u.Units[op])
	}
	return fmt.Sprintf("WRU %.1f (index %.1f), RRU %.1f,%s", u.WRU, u.IndexWRU, u.RRU, b.String())
}

// Meter is an http.RoundTripper for the DynamoDB client that forwards every
// request and adds up the capacity it consumes. It reads the items a write
// touches before and after it (DynamoDB bills the larger image, twice inside
// a transaction, plus the index writes), so it needs a server that keeps
// state, and it serialises writes to see their own images.
type Meter struct {
	Next   http.RoundTripper
	Schema Schema

	writes sync.Mutex
	mu     sync.Mutex
	usage  Usage
}

// Usage returns a copy of what was consumed so far.
func (m *Meter) Usage() Usage {
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.usage
	u.Requests = maps.Clone(m.usage.Requests)
	u.Units = maps.Clone(m.usage.Units)
	u.Items = maps.Clone(m.usage.Items)
	return u
}

// Reset starts counting from zero.
func (m *Meter) Reset() {
	m.mu.Lock()
	m.usage = Usage{}
	m.mu.Unlock()
}

func (m *Meter) add(op string, wru, indexWRU, rru float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.usage.Requests == nil {
		m.usage.Requests = map[string]int{}
		m.usage.Units = map[string]float64{}
	}
	m.usage.Requests[op]++
	m.usage.Units[op] += wru + indexWRU + rru
	m.usage.WRU += wru + indexWRU
	m.usage.IndexWRU += indexWRU
	m.usage.RRU += rru
}

type itemKey struct {
	table string
	key   map[string]av
}

type writeReq struct {
	TableName string        `json:"TableName"`
	Item      map[string]av `json:"Item"`
	Key       map[string]av `json:"Key"`
}

// RoundTrip implements http.RoundTripper.
func (m *Meter) RoundTrip(req *http.Request) (*http.Response, error) {
	op, ok := strings.CutPrefix(req.Header.Get("X-Amz-Target"), "DynamoDB_20120810.")
	if !ok || req.Body == nil {
		return m.next().RoundTrip(req)
	}
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(body))

	switch op {
	case "PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems":
		return m.write(req, op, body)
	}
	resp, err := m.next().RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		m.add(op, 0, 0, 0)
		return resp, err
	}
	out, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(out))
	if err != nil {
		return resp, err
	}
	rru, err := m.readUnits(req, op, body, out)
	if err != nil {
		return nil, fmt.Errorf("meter %s: %w", op, err)
	}
	m.add(op, 0, 0, rru)
	return resp, nil
}

func (m *Meter) next() http.RoundTripper {
	if m.Next != nil {
		return m.Next
	}
	return http.DefaultTransport
}

func consistency(consistent bool) float64 {
	if consistent {
		return 1
	}
	return 0.5
}

// readUnits bills reads by the full size of the items read (a projection
// does not make a read cheaper), an absent item as the minimum.
func (m *Meter) readUnits(req *http.Request, op string, body, out []byte) (float64, error) {
	switch op {
	case "GetItem":
		var in struct {
			TableName      string
			Key            map[string]av
			ConsistentRead bool
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return 0, err
		}
		item, err := m.get(req, in.TableName, in.Key)
		return readUnits(ItemSize(item)) * consistency(in.ConsistentRead), err
	case "BatchGetItem":
		var in struct {
			RequestItems map[string]struct {
				Keys           []map[string]av
				ConsistentRead bool
			}
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return 0, err
		}
		var units float64
		for table, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				item, err := m.get(req, table, k)
				if err != nil {
					return 0, err
				}
				units += readUnits(ItemSize(item)) * consistency(ka.ConsistentRead)
			}
		}
		return units, nil
	case "Query", "Scan":
		var in struct {
			IndexName      string
			ConsistentRead bool
		}
		var res struct{ Items []map[string]av }
		if err := json.Unmarshal(body, &in); err != nil {
			return 0, err
		}
		if err := json.Unmarshal(out, &res); err != nil {
			return 0, err
		}
		size := 0
		for _, it := range res.Items {
			size += ItemSize(it)
		}
		return readUnits(size) * consistency(in.ConsistentRead && in.IndexName == ""), nil
	}
	return 0, nil
}

// write bills each item written by the larger of its images before and
// after (a failed condition still bills the item), doubled in a
// transaction, and adds the index writes the change causes.
func (m *Meter) write(req *http.Request, op string, body []byte) (*http.Response, error) {
	var keys []itemKey
	factor := 1.0
	switch op {
	case "PutItem", "UpdateItem", "DeleteItem":
		var in writeReq
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		keys = append(keys, m.keyOf(in))
	case "TransactWriteItems":
		factor = 2
		var in struct {
			TransactItems []map[string]writeReq
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		for _, ti := range in.TransactItems {
			for _, w := range ti {
				keys = append(keys, m.keyOf(w))
			}
		}
	case "BatchWriteItem":
		var in struct {
			RequestItems map[string][]struct {
				PutRequest    *struct{ Item map[string]av }
				DeleteRequest *struct{ Key map[string]av }
			}
		}
		if err := json.Unmarshal(body, &in); err != nil {
			return nil, err
		}
		for table, ws := range in.RequestItems {
			for _, w := range ws {
				if w.PutRequest != nil {
					keys = append(keys, m.keyOf(writeReq{TableName: table, Item: w.PutRequest.Item}))
				} else if w.DeleteRequest != nil {
					keys = append(keys, m.keyOf(writeReq{TableName: table, Key: w.DeleteRequest.Key}))
				}
			}
		}
	}

	m.writes.Lock()
	defer m.writes.Unlock()
	before := make([]map[string]av, len(keys))
	for i, k := range keys {
		var err error
		if before[i], err = m.get(req, k.table, k.key); err != nil {
			return nil, err
		}
	}
	resp, err := m.next().RoundTrip(req)
	if err != nil {
		return resp, err
	}
	var wru, index float64
	for i, k := range keys {
		after, err := m.get(req, k.table, k.key)
		if err != nil {
			return nil, err
		}
		w, x := factor*writeUnits(max(ItemSize(before[i]), ItemSize(after))), factor*m.indexUnits(before[i], after)
		wru += w
		index += x
		m.item(m.kind(k.key), w+x)
	}
	m.add(op, wru, index, 0)
	return resp, nil
}

func (m *Meter) item(kind string, units float64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.usage.Items == nil {
		m.usage.Items = map[string]float64{}
	}
	m.usage.Items[kind] += units
}

func (m *Meter) kind(key map[string]av) string {
	part := func(name string) string {
		var s string
		_ = json.Unmarshal(key[name]["S"], &s)
		// Up to the first character that is not a capital letter: "CONV#7#1"
		// is CONV, an SLA record's id "7:70001:1795912025" is "".
		if i := strings.IndexFunc(s, func(r rune) bool { return r < 'A' || r > 'Z' }); i >= 0 {
			s = s[:i]
		}
		return s
	}
	return part(m.Schema.PK) + "/" + part(m.Schema.SK)
}

// indexUnits is the cost of keeping the index in step: a put when an item
// enters it or its index key changes, a delete when it leaves or moves, an
// update in place otherwise.
func (m *Meter) indexUnits(before, after map[string]av) float64 {
	if m.Schema.IndexPK == "" {
		return 0
	}
	inBefore, inAfter := m.indexKey(before), m.indexKey(after)
	size := func(it map[string]av) int {
		if m.Schema.IndexProject {
			return ItemSize(it)
		}
		return len(inBefore) + len(inAfter)
	}
	switch {
	case inBefore == "" && inAfter == "":
		return 0
	case inBefore == inAfter:
		if string(mustJSON(before)) == string(mustJSON(after)) {
			return 0
		}
		return writeUnits(max(size(before), size(after)))
	case inBefore == "":
		return writeUnits(size(after))
	case inAfter == "":
		return writeUnits(size(before))
	default:
		return writeUnits(size(before)) + writeUnits(size(after))
	}
}

func (m *Meter) indexKey(item map[string]av) string {
	pk, ok := item[m.Schema.IndexPK]
	if !ok {
		return ""
	}
	return string(mustJSON(pk)) + "|" + string(mustJSON(item[m.Schema.IndexSK]))
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

func (m *Meter) keyOf(w writeReq) itemKey {
	if w.Key != nil {
		return itemKey{w.TableName, w.Key}
	}
	k := map[string]av{m.Schema.PK: w.Item[m.Schema.PK]}
	if m.Schema.SK != "" {
		k[m.Schema.SK] = w.Item[m.Schema.SK]
	}
	return itemKey{w.TableName, k}
}

// get reads an item straight from the server, unmetered.
func (m *Meter) get(orig *http.Request, table string, key map[string]av) (map[string]av, error) {
	body, err := json.Marshal(map[string]any{"TableName": table, "Key": key, "ConsistentRead": true})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(orig.Context(), http.MethodPost, orig.URL.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("X-Amz-Target", "DynamoDB_20120810.GetItem")
	req.Header.Set("Content-Type", "application/x-amz-json-1.0")
	resp, err := m.next().RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct{ Item map[string]av }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return nil, fmt.Errorf("read item image: %w", err)
	}
	return out.Item, nil
}
