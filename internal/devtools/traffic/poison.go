package traffic

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"supportpipe/internal/chatwoot"
)

// Kinds of poison: webhooks Chatwoot can send that once cost this pipeline
// seconds of CPU per event, a response it could not encode, or a queue
// that refused the message. All but WrongType are valid events that must
// be processed.
const (
	// LongWord is a customer message of one 150,000–1,000,000-character word.
	LongWord = "long_word"
	// FarFuture carries 9999-12-31T23:59:59Z as its times.
	FarFuture = "far_future"
	// Epoch carries 1970-01-01T00:00:01Z as its times.
	Epoch = "epoch"
	// LargeBody is a body over SQS's 1 MiB: a long email, as Chatwoot sends it.
	LargeBody = "large_body"
	// NonCharacters holds raw U+FFFE and U+FFFF inside a JSON string:
	// valid JSON that SQS refuses.
	NonCharacters = "noncharacters"
	// WrongType has a field of the wrong type: authentic but undecodable,
	// so it is kept in the DLQ for review.
	WrongType = "wrong_type"
)

// PoisonKinds lists the kinds in the order Poisoner.Next makes them.
var PoisonKinds = []string{LongWord, FarFuture, Epoch, LargeBody, NonCharacters, WrongType}

// Processable reports whether the pipeline must process the event, rather
// than keep it in the DLQ.
func (e Event) Processable() bool { return e.Poison != WrongType }

var (
	farFuture = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)
	epochOne  = time.Unix(1, 0).UTC()
)

// Poisoner makes poison events, each in a conversation of its own.
type Poisoner struct {
	// Large are Chatwoot bodies over 1 MiB; LargeBody events are copies of
	// them, in turn, under new ids (Reissue).
	Large [][]byte
	// NextMessage and NextConversation are the ids the next event takes.
	NextMessage, NextConversation int64

	made, large int
}

// Next makes the next poison event, the kinds in turn.
func (p *Poisoner) Next(rng *rand.Rand, now time.Time) (Event, error) {
	kind := PoisonKinds[p.made%len(PoisonKinds)]
	p.made++
	return p.Make(kind, rng, now)
}

// Make makes a poison event of a kind; now is when Chatwoot would send it.
func (p *Poisoner) Make(kind string, rng *rand.Rand, now time.Time) (Event, error) {
	msg, conv := p.NextMessage, p.NextConversation
	p.NextMessage++
	p.NextConversation++
	at := now.UTC().Truncate(time.Millisecond)
	var body string
	switch kind {
	case LongWord:
		body = messageBody(msg, conv, "incoming", longWord(rng), `[]`, at, false)
	case FarFuture, Epoch:
		t := farFuture
		if kind == Epoch {
			t = epochOne
		}
		if rng.IntN(2) == 0 {
			body = messageBody(msg, conv, "incoming", customerText(rng), `[]`, t, false)
		} else {
			body = conversationBody("conversation_updated", conv, "open", `[]`, t, false)
		}
	case LargeBody:
		if len(p.Large) == 0 {
			return Event{}, errors.New("traffic: no large bodies to copy")
		}
		src := p.Large[p.large%len(p.Large)]
		p.large++
		b, err := Reissue(src, msg, conv)
		if err != nil {
			return Event{}, err
		}
		return Event{Body: b, Poison: kind}, nil
	case NonCharacters:
		// Written as placeholders first: %q would escape the characters.
		body = messageBody(msg, conv, "incoming", "The label reads <FFFF>PO 58213<FFFE> and the box arrived crushed", `[]`, at, false)
		body = strings.NewReplacer("<FFFF>", "\uFFFF", "<FFFE>", "\uFFFE").Replace(body)
	case WrongType:
		body = messageBody(msg, conv, "incoming", customerText(rng), `[]`, at, false)
		w := wrongTypes[rng.IntN(len(wrongTypes))]
		id := strings.NewReplacer("{id}", strconv.FormatInt(msg, 10))
		body = strings.Replace(body, id.Replace(w[0]), id.Replace(w[1]), 1)
	default:
		return Event{}, fmt.Errorf("traffic: unknown poison %q", kind)
	}
	return Event{Body: []byte(body), Poison: kind}, nil
}

// wrongTypes are the fields a WrongType event gets wrong: the original
// and its replacement, {id} standing for the message id. The first
// occurrence is the top-level message's.
var wrongTypes = [][2]string{
	{`"id":{id},`, `"id":"{id}",`},
	{`"private":false`, `"private":"false"`},
	{`"message_type":"incoming"`, `"message_type":true`},
	{`"content_type":"text"`, `"content_type":["text"]`},
}

// longWord is one word of 150,000 to 1,000,000 characters.
func longWord(rng *rand.Rand) string {
	n := 150_000 + rng.IntN(850_001)
	var b strings.Builder
	switch rng.IntN(4) {
	case 0:
		for range n {
			b.WriteByte(byte('a' + rng.IntN(26)))
		}
	case 1:
		// A tagging rule's word over and over.
		for b.Len() < n {
			b.WriteString("refund")
		}
		return b.String()[:n]
	case 2:
		return strings.Repeat("a", n)
	default:
		// Two bytes a letter: the body may be over 1 MiB.
		letters := []rune("éèàüößçñøå")
		for range n {
			b.WriteRune(letters[rng.IntN(len(letters))])
		}
	}
	return b.String()
}

// Reissue returns a Chatwoot body as the same event of another message
// and conversation: the ids are rewritten in place and every other byte is
// kept, so a corpus body can be sent many times as distinct events.
func Reissue(body []byte, msgID, convID int64) ([]byte, error) {
	h, err := chatwoot.Check(body)
	if err != nil {
		return nil, fmt.Errorf("traffic: reissue: %w", err)
	}
	out := body
	if h.Kind == chatwoot.KindMessage {
		out = replaceNumber(out, `"id":`, h.ID, msgID)
	}
	if h.ConversationID != 0 {
		out = replaceNumber(out, `"id":`, h.ConversationID, convID)
		out = replaceNumber(out, `"conversation_id":`, h.ConversationID, convID)
	}
	got, err := chatwoot.Check(out)
	if err != nil {
		return nil, fmt.Errorf("traffic: reissue: %w", err)
	}
	if h.Kind == chatwoot.KindMessage && got.ID != msgID || h.ConversationID != 0 && got.ConversationID != convID {
		return nil, fmt.Errorf("traffic: reissue: ids %d/%d came out as %d/%d", msgID, convID, got.ID, got.ConversationID)
	}
	return out, nil
}

// replaceNumber replaces the number old after key with new, wherever the
// whole number follows key.
func replaceNumber(b []byte, key string, old, new int64) []byte {
	from := []byte(key + strconv.FormatInt(old, 10))
	to := []byte(key + strconv.FormatInt(new, 10))
	var out bytes.Buffer
	for {
		i := bytes.Index(b, from)
		if i < 0 {
			out.Write(b)
			return out.Bytes()
		}
		end := i + len(from)
		out.Write(b[:i])
		if end < len(b) && (b[end] >= '0' && b[end] <= '9' || b[end] == '.') {
			out.Write(from)
		} else {
			out.Write(to)
		}
		b = b[end:]
	}
}
