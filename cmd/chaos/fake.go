package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"
)

// fakeChatwoot is the Chatwoot REST API as the pipeline uses it, with
// injected faults, recording every effect so duplicates can be counted.
// Faults happen before the request is handled, except for a share
// (afterRate) of the 500s and hangs of note posts, which come after the
// note was created: the answer is lost, the note exists.
type fakeChatwoot struct {
	faultRate, hangRate, afterRate float64
	// transient: never fail a call path three times in a row, never hang.
	transient bool
	hang      time.Duration

	mu          sync.Mutex
	rng         *rand.Rand
	consecutive map[string]int
	labels      map[string][]string
	labelPosts  map[string]int         // POSTs that did not change the set
	notes       map[string][]time.Time // conversation|content → when posted
	messages    map[string][]message   // conversation → its notes, oldest first
	priorities  map[string][]string
	faults      map[string]int
	calls       int
	lastID      int64 // of the notes created
}

// message is a note as the messages endpoint lists it.
type message struct {
	ID                int64           `json:"id"`
	Content           string          `json:"content"`
	MessageType       int             `json:"message_type"`
	Private           bool            `json:"private"`
	ContentAttributes map[string]bool `json:"content_attributes"`
	CreatedAt         int64           `json:"created_at"`
}

// messagesPage is how many messages Chatwoot's MessageFinder returns.
const messagesPage = 20

func newFake(fault, hang, after float64, transient bool, seed uint64) *fakeChatwoot {
	return &fakeChatwoot{faultRate: fault, hangRate: hang, afterRate: after, transient: transient, hang: 15 * time.Second,
		rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), consecutive: map[string]int{},
		labels: map[string][]string{}, labelPosts: map[string]int{}, notes: map[string][]time.Time{},
		messages: map[string][]message{}, priorities: map[string][]string{}, faults: map[string]int{}}
}

var convPath = regexp.MustCompile(`^/api/v1/accounts/(\d+)/conversations/(\d+)/(labels|toggle_priority|messages|assignments)$`)

func (f *fakeChatwoot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("api_access_token") != "chaos-token" {
		http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
		return
	}
	key := r.Method + " " + r.URL.Path
	f.mu.Lock()
	f.calls++
	roll := f.rng.Float64()
	fail := ""
	switch {
	case !f.transient && roll < f.hangRate:
		fail = "hang"
	case roll < f.hangRate+f.faultRate && !(f.transient && f.consecutive[key] >= 2):
		if f.rng.IntN(2) == 0 {
			fail = "500"
		} else {
			fail = "429"
		}
	}
	// A note post may fail after Chatwoot created the note: the realistic
	// ambiguous case, which the client must resolve by looking.
	notePost := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/messages")
	after := notePost && (fail == "500" || fail == "hang") && f.rng.Float64() < f.afterRate
	if fail != "" {
		f.consecutive[key]++
		if after {
			f.faults[fail+" after the note"]++
		} else {
			f.faults[fail]++
		}
	} else {
		f.consecutive[key] = 0
	}
	f.mu.Unlock()
	if after {
		f.serve(w, r, fail)
		return
	}
	// Other faults happen before the request is handled: like a proxy or
	// a rate limiter in front of Chatwoot.
	if fail != "" {
		f.fault(w, r, fail)
		return
	}
	f.serve(w, r, "")
}

// fault answers the fault (none when empty).
func (f *fakeChatwoot) fault(w http.ResponseWriter, r *http.Request, fail string) {
	switch fail {
	case "hang":
		select {
		case <-time.After(f.hang):
		case <-r.Context().Done():
		}
		http.Error(w, `{"error":"gateway timeout"}`, http.StatusGatewayTimeout)
		return
	case "500":
		http.Error(w, `{"error":"internal"}`, http.StatusInternalServerError)
		return
	case "429":
		w.Header().Set("Retry-After", "1")
		http.Error(w, "Retry later\n", http.StatusTooManyRequests)
		return
	}
}

// serve handles the request; after, when set, is the fault that loses its
// answer once it is handled.
func (f *fakeChatwoot) serve(w http.ResponseWriter, r *http.Request, after string) {
	switch {
	case r.URL.Path == "/api/v1/profile":
		writeJSON(w, map[string]any{"id": 1, "name": "chaos", "accounts": []any{map[string]any{"id": 7, "name": "N", "role": "administrator"}}})
		return
	case strings.HasSuffix(r.URL.Path, "/conversations") && r.Method == http.MethodGet:
		writeJSON(w, map[string]any{"data": map[string]any{"meta": map[string]any{}, "payload": []any{}}})
		return
	}
	m := convPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.NotFound(w, r)
		return
	}
	conv := m[1] + "/" + m[2]
	if m[3] == "messages" && r.Method == http.MethodPost {
		var b struct{ Content string }
		_ = json.NewDecoder(r.Body).Decode(&b)
		// Chatwoot keeps a message without its trailing whitespace.
		content := strings.TrimRightFunc(b.Content, unicode.IsSpace)
		f.mu.Lock()
		f.lastID++
		id := f.lastID
		f.notes[conv+"|"+content] = append(f.notes[conv+"|"+content], time.Now())
		note := message{ID: id, Content: content, MessageType: 1, Private: true,
			ContentAttributes: map[string]bool{"supportpipe": true}, CreatedAt: time.Now().Unix()}
		f.messages[conv] = append(f.messages[conv], note)
		f.mu.Unlock()
		if after != "" {
			f.fault(w, r, after)
			return
		}
		writeJSON(w, note)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case m[3] == "labels" && r.Method == http.MethodGet:
		writeJSON(w, map[string]any{"payload": nonNil(f.labels[conv])})
	case m[3] == "labels" && r.Method == http.MethodPost:
		var b struct{ Labels []string }
		_ = json.NewDecoder(r.Body).Decode(&b)
		slices.Sort(b.Labels)
		if slices.Equal(b.Labels, f.labels[conv]) {
			f.labelPosts[conv]++
		}
		f.labels[conv] = b.Labels
		writeJSON(w, map[string]any{"payload": b.Labels})
	case m[3] == "toggle_priority":
		var b struct{ Priority string }
		_ = json.NewDecoder(r.Body).Decode(&b)
		f.priorities[conv] = append(f.priorities[conv], b.Priority)
		w.WriteHeader(http.StatusOK)
	case m[3] == "messages" && r.Method == http.MethodGet:
		// The latest page, newest last; the pipeline looks for a note
		// whose post failed.
		list := f.messages[conv]
		writeJSON(w, map[string]any{"meta": map[string]any{}, "payload": nonNilMessages(list[max(0, len(list)-messagesPage):])})
	case m[3] == "assignments":
		writeJSON(w, map[string]any{"id": 3})
	default:
		http.NotFound(w, r)
	}
}

// setFaults changes the share of calls that fail and that hang.
func (f *fakeChatwoot) setFaults(fault, hang float64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.faultRate, f.hangRate = fault, hang
}

// duplicates counts effects applied more than once.
func (f *fakeChatwoot) duplicates() (labels, notes, priorities int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range f.labelPosts {
		labels += n
	}
	for _, at := range f.notes {
		notes += len(at) - 1
	}
	for _, ps := range f.priorities {
		for i := 1; i < len(ps); i++ {
			if ps[i] == ps[i-1] {
				priorities++
			}
		}
	}
	return
}

func (f *fakeChatwoot) summary() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	var twice []string
	for key, at := range f.notes {
		n += len(at)
		if len(at) > 1 {
			// When a note was posted again tells which fault or kill did it.
			conv, _, _ := strings.Cut(key, "|")
			var times []string
			for _, t := range at {
				times = append(times, t.UTC().Format("15:04:05.000"))
			}
			twice = append(twice, fmt.Sprintf("%s at %s", conv, strings.Join(times, ", ")))
		}
	}
	s := fmt.Sprintf("%d calls, faults %v, %d notes, %d conversations labelled", f.calls, f.faults, n, len(f.labels))
	if len(twice) > 0 {
		slices.Sort(twice)
		s += "; the same note again in " + strings.Join(twice, "; ")
	}
	return s
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func nonNilMessages(s []message) []message {
	if s == nil {
		return []message{}
	}
	return s
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
