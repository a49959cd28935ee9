package chatwoot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// decodeStd is the decoder Check replaced at the edge: after the checks
// every body gets (eventOf), encoding/json into the typed payload. It is the
// oracle Check must agree with, verdict and message.
func decodeStd(body []byte) (Head, error) {
	name, err := eventOf(body)
	if err != nil {
		return Head{}, err
	}
	h := Head{Event: name, Kind: KindOf(name)}
	var m Message
	var cv Conversation
	var ct Contact
	switch h.Kind {
	case KindMessage:
		err = json.Unmarshal(body, &m)
	case KindConversation:
		err = json.Unmarshal(body, &cv)
	case KindContact:
		err = json.Unmarshal(body, &ct)
	default:
		if !json.Valid(body) {
			return Head{}, ErrNotJSON
		}
		return h, nil
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return Head{}, ErrNotJSON
	}
	if err != nil {
		return Head{}, fmt.Errorf("%w: %s", ErrBadPayload, describe(err))
	}
	positive := func(n int64) int64 { return max(n, 0) }
	switch h.Kind {
	case KindMessage:
		h.ID = positive(m.ID)
		if m.Account != nil {
			h.AccountID = positive(m.Account.ID)
		}
		if m.Conversation != nil {
			h.ConversationID = positive(m.Conversation.ID)
		}
	case KindConversation:
		h.ID, h.ConversationID = positive(cv.ID), positive(cv.ID)
		for _, x := range cv.Messages {
			if x.AccountID > 0 {
				h.AccountID = x.AccountID
				break
			}
		}
	case KindContact:
		h.ID = positive(ct.ID)
		if ct.Account != nil {
			h.AccountID = positive(ct.Account.ID)
		}
	}
	if err := h.validate(); err != nil {
		return Head{}, fmt.Errorf("%w: %s", ErrBadPayload, err)
	}
	return h, nil
}

// foldedKeys says whether some object in body has two keys that differ but
// are equal under case folding, which Check rejects and encoding/json
// merges.
func foldedKeys(body []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(body))
	var walk func() (bool, error)
	walk = func() (bool, error) {
		tok, err := dec.Token()
		if err != nil {
			return false, err
		}
		d, ok := tok.(json.Delim)
		if !ok {
			return false, nil
		}
		var keys []string
		for dec.More() {
			if d == '{' {
				k, err := dec.Token()
				if err != nil {
					return false, err
				}
				for _, x := range keys {
					if x != k.(string) && strings.EqualFold(x, k.(string)) {
						return true, nil
					}
				}
				keys = append(keys, k.(string))
			}
			if found, err := walk(); found || err != nil {
				return found, err
			}
		}
		_, err = dec.Token()
		return false, err
	}
	found, _ := walk()
	return found
}

// agree fails t unless Check and the oracle agree on body.
func agree(t *testing.T, body []byte) {
	t.Helper()
	got, gerr := Check(body)
	want, werr := decodeStd(body)
	if errors.Is(gerr, ErrDuplicateKey) && !errors.Is(werr, ErrDuplicateKey) {
		require.True(t, foldedKeys(body), "Check: %v, oracle: %v, for %q", gerr, werr, body)
		return
	}
	if werr != nil || gerr != nil {
		require.Error(t, gerr, "oracle: %v, for %q", werr, body)
		require.Error(t, werr, "Check: %v, for %q", gerr, body)
		require.Equal(t, werr.Error(), gerr.Error(), "for %q", body)
		return
	}
	require.Equal(t, want, got, "for %q", body)
}

func fixtures(t testing.TB) [][]byte {
	files, err := filepath.Glob(filepath.Join("..", "..", "testdata", "chatwoot", "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	var out [][]byte
	for _, f := range files {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		out = append(out, b)
	}
	return out
}

func TestCheckAgreesOnFixtures(t *testing.T) {
	for _, b := range fixtures(t) {
		agree(t, b)
		_, err := Check(b)
		require.NoError(t, err)
	}
}

func TestCheckAgreesOnCases(t *testing.T) {
	msg := func(rest string) string {
		return `{"event":"message_created","id":1,"conversation":{"id":2}` + rest + `}`
	}
	cases := map[string]string{
		"string id":             msg(`,"id":"1"`),
		"fraction id":           `{"event":"message_created","id":1.5,"conversation":{"id":2}}`,
		"exponent id":           `{"event":"message_created","id":1e3,"conversation":{"id":2}}`,
		"overflowing id":        `{"event":"message_created","id":99999999999999999999,"conversation":{"id":2}}`,
		"negative id":           `{"event":"message_created","id":-4,"conversation":{"id":2}}`,
		"null id":               `{"event":"message_created","id":null,"conversation":{"id":2}}`,
		"bool content":          msg(`,"content":true`),
		"number content":        msg(`,"content":5`),
		"object private":        msg(`,"private":{}`),
		"array sender":          msg(`,"sender":[]`),
		"string sender":         msg(`,"sender":"x"`),
		"null sender":           msg(`,"sender":null`),
		"nested type error":     msg(`,"sender":{"id":"5"}`),
		"deep type error":       `{"event":"conversation_updated","id":3,"messages":[{"id":1},{"sender":{"custom_attributes":[]}}]}`,
		"labels of numbers":     `{"event":"conversation_updated","id":3,"labels":["a",1]}`,
		"labels object":         `{"event":"conversation_updated","id":3,"labels":{}}`,
		"priority number":       `{"event":"conversation_updated","id":3,"priority":1}`,
		"priority null":         `{"event":"conversation_updated","id":3,"priority":null}`,
		"changed null":          `{"event":"conversation_status_changed","id":3,"changed_attributes":null}`,
		"changed entry null":    `{"event":"conversation_status_changed","id":3,"changed_attributes":[null,{"status":null}]}`,
		"changed entry number":  `{"event":"conversation_status_changed","id":3,"changed_attributes":[{"status":5}]}`,
		"changed not array":     `{"event":"conversation_status_changed","id":3,"changed_attributes":{}}`,
		"huge float in any":     msg(`,"sender":{"custom_attributes":{"x":1e400}}`),
		"huge float deep":       msg(`,"sender":{"custom_attributes":{"x":[{"y":-1e999}]}}`),
		"huge float raw":        msg(`,"content_attributes":{"x":1e400}`),
		"huge float unknown":    msg(`,"additional_attributes":{"x":1e400}`),
		"bad time string":       msg(`,"created_at":"yesterday"`),
		"bad time object":       msg(`,"created_at":{}`),
		"bad time array":        msg(`,"created_at":[1]`),
		"time null":             msg(`,"created_at":null`),
		"float time":            `{"event":"conversation_updated","id":3,"updated_at":1778577267.604113}`,
		"negative time":         `{"event":"conversation_updated","id":3,"updated_at":-1}`,
		"escaped time":          msg(`,"created_at":"2026-05-12T09:14:27\u002e604Z"`),
		"bad message type":      msg(`,"message_type":"sideways"`),
		"int message type":      `{"event":"conversation_updated","id":3,"messages":[{"message_type":1}]}`,
		"big message type":      `{"event":"conversation_updated","id":3,"messages":[{"message_type":9}]}`,
		"float message type":    `{"event":"conversation_updated","id":3,"messages":[{"message_type":1.5}]}`,
		"abort then type error": msg(`,"created_at":"bad","content":5`),
		"type error then abort": msg(`,"content":5,"created_at":"bad"`),
		"upper-case key":        `{"event":"message_created","ID":7,"conversation":{"Id":2}}`,
		"upper-case bad type":   msg(`,"CONTENT":5`),
		"kelvin key":            `{"event":"contact_updated","id":3,"linK":5,"\u212a":1}`,
		"long s key":            `{"event":"contact_updated","id":3,"name":"a","nam\u017f":"b"}`,
		"escaped key":           `{"event":"message_created","\u0069d":1,"conversation":{"id":2}}`,
		"escaped key bad type":  `{"event":"message_created","\u0069d":"1","conversation":{"id":2}}`,
		"folded duplicate":      `{"event":"message_created","id":1,"ID":2,"conversation":{"id":2}}`,
		"folded in map ok":      msg(`,"sender":{"custom_attributes":{"a":1,"A":2}}`),
		"no conversation":       `{"event":"message_created","id":1}`,
		"null conversation":     `{"event":"message_created","id":1,"conversation":null}`,
		"conversation no id":    `{"event":"message_created","id":1,"conversation":{}}`,
		"account":               msg(`,"account":{"id":7}`),
		"negative account":      msg(`,"account":{"id":-7}`),
		"contact account":       `{"event":"contact_created","id":1,"account":{"id":-2}}`,
		"conversation accounts": `{"event":"conversation_created","id":1,"messages":[{"account_id":0},{"account_id":4},{"account_id":5}]}`,
		"no contact id":         `{"event":"contact_created","account":{"id":2}}`,
		"unknown event":         `{"event":"webwidget_triggered","id":"x"}`,
		"unknown event bad":     `{"event":"webwidget_triggered","id":}`,
		"no event":              `{"id":1}`,
		"event number":          `{"event":5}`,
		"event escaped":         `{"event":"message_\u0063reated","id":1,"conversation":{"id":2}}`,
		"trailing garbage":      msg(``) + `x`,
		"trailing space":        msg(``) + " \n",
		"two objects":           msg(``) + `{}`,
		"leading zero":          msg(`,"x":01`),
		"bare minus":            msg(`,"x":-`),
		"dot no digits":         msg(`,"x":1.`),
		"exp no digits":         msg(`,"x":1e+`),
		"control in string":     msg(`,"content":"a` + "\x01" + `b"`),
		"tab in string":         msg(`,"content":"a` + "\t" + `b"`),
		"bad escape":            msg(`,"content":"\x"`),
		"short unicode escape":  msg(`,"content":"\u12"`),
		"escaped quote":         msg(`,"content":"say \"hi\" \\"`),
		"missing colon":         `{"event":"message_created","id" 1}`,
		"missing comma":         `{"event":"message_created" "id":1}`,
		"trailing comma":        msg(`,`),
		"truex":                 msg(`,"private":truex`),
		"tru":                   msg(`,"private":tru`),
		"nul":                   msg(`,"sender":nul`),
		"duplicate key":         msg(`,"content":"a","content":"b"`),
		"nesting":               msg(`,"x":` + strings.Repeat("[", 70) + strings.Repeat("]", 70)),
		"whitespace everywhere": " {\t\"event\" :\r\n\"message_created\" , \"id\" : 1 , \"conversation\" : { \"id\" : 2 } } ",
		"array top":             `[{"event":"message_created"}]`,
		"empty":                 ``,
		"invalid utf8":          msg(`,"content":"` + "\xff" + `"`),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) { agree(t, []byte(body)) })
	}
}

// TestCheckAgreesOnMutations changes fixtures the way a broken sender
// might (a value of another type, a key in other case, a byte gone) and
// checks Check against the oracle on each: thousands of cases, the same
// every run.
func TestCheckAgreesOnMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := []string{`null`, `true`, `0`, `-3`, `1.5`, `1e400`, `""`, `"x"`, `"2026-05-12T09:14:27Z"`, `{}`, `[]`, `[1]`, `{"id":1}`, `"incoming"`}
	n := 0
	for _, body := range fixtures(t) {
		spans := valueSpans(body)
		for range 400 {
			var m []byte
			switch rng.IntN(4) {
			case 0, 1: // replace a value
				s := spans[rng.IntN(len(spans))]
				m = append(append(append([]byte{}, body[:s[0]]...), values[rng.IntN(len(values))]...), body[s[1]:]...)
			case 2: // upper-case a key
				s := spans[rng.IntN(len(spans))]
				k := bytes.LastIndexByte(body[:s[0]], '"')
				q := bytes.LastIndexByte(body[:max(k, 0)], '"')
				if q < 0 {
					continue
				}
				m = append([]byte{}, body...)
				copy(m[q:k], bytes.ToUpper(m[q:k]))
			default: // drop a byte
				i := rng.IntN(len(body))
				m = append(append([]byte{}, body[:i]...), body[i+1:]...)
			}
			agree(t, m)
			n++
		}
	}
	t.Logf("%d mutated bodies", n)
}

// valueSpans lists [start, end) of each value that follows a key in body.
func valueSpans(body []byte) [][2]int {
	var out [][2]int
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if _, isDelim := tok.(json.Delim); isDelim {
			continue
		}
		// Scalars only: containers are covered by their members.
		start := int(before)
		for start < len(body) && (body[start] == ',' || body[start] == ':' || body[start] == ' ' || body[start] == '\n') {
			start++
		}
		if start > 0 && body[start-1] == ':' || start > 1 && body[start-2] == ':' {
			out = append(out, [2]int{start, int(dec.InputOffset())})
		}
	}
}

// FuzzCheck: Check and the typed decoder agree on every body.
func FuzzCheck(f *testing.F) {
	for _, b := range fixtures(f) {
		f.Add(b)
	}
	f.Add([]byte(`{"event":"message_created","ID":7,"conversation":{"Id":2,"messages":[{"message_type":1}]}}`))
	f.Add([]byte(`{"event":"conversation_updated","id":3,"changed_attributes":[{"status":{"previous_value":"open"}}]}`))
	f.Fuzz(func(t *testing.T, body []byte) { agree(t, body) })
}
