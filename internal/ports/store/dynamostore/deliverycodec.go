package dynamostore

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"supportpipe/internal/ports/store"
)

// Delivery log entries are stored packed, several to an item, because
// DynamoDB bills a write by the KB: ten entries of a batch in one item of
// about 600 bytes are one write unit where ten items would be ten. The
// format is a version byte, then per entry:
//
//	uvarint flags (1 redriven, 2 backfilled, 4 received time present)
//	id, message id (see appendID)
//	event: a byte, its index in entryEvents plus one, or 0 and the name
//	zigzag account, conversation
//	zigzag at (unix ns; after the first entry, the difference to the one before)
//	zigzag at − received, when flag 4
//	outcome: a byte, its index in entryOutcomes plus one, or 0 and the name
//	reason (uvarint length, bytes), uvarint attempt, uvarint processing ns
//
// The two tables only ever grow at their end: their positions are stored.
const codecVersion = 1

var (
	entryEvents = []string{"message_created", "message_updated", "conversation_created", "conversation_status_changed",
		"conversation_updated", "contact_created", "contact_updated", "conversation_typing_on", "conversation_typing_off",
		"webwidget_triggered"}
	entryOutcomes = []string{store.DeliveryProcessed, store.DeliveryDuplicate, store.DeliveryRedelivered, store.DeliveryIgnored,
		store.DeliveryInvalid, store.DeliveryFailed, store.DeliveryDeadLettered}
)

const (
	flagRedriven   = 1
	flagBackfilled = 2
	flagReceived   = 4
)

// Kinds of stored id: a lowercase UUID (Chatwoot's delivery ids, SQS's
// message ids) and the edge's derived ids take 16 bytes instead of 36 or 40.
const (
	idRaw     = 0
	idUUID    = 1
	idDerived = 2
)

const derivedPrefix = "derived-"

func encodeEntries(ds []store.Delivery) []byte {
	b := []byte{codecVersion}
	var prev int64
	for i, d := range ds {
		var flags uint64
		if d.Redriven {
			flags |= flagRedriven
		}
		if d.Backfilled {
			flags |= flagBackfilled
		}
		if !d.ReceivedAt.IsZero() {
			flags |= flagReceived
		}
		b = binary.AppendUvarint(b, flags)
		b = appendID(b, d.ID)
		b = appendID(b, d.MessageID)
		b = appendName(b, entryEvents, d.Event)
		b = binary.AppendVarint(b, d.AccountID)
		b = binary.AppendVarint(b, d.ConversationID)
		at := d.At.UnixNano()
		if i == 0 {
			b = binary.AppendVarint(b, at)
		} else {
			b = binary.AppendVarint(b, at-prev)
		}
		prev = at
		if flags&flagReceived != 0 {
			b = binary.AppendVarint(b, at-d.ReceivedAt.UnixNano())
		}
		b = appendName(b, entryOutcomes, d.Outcome)
		b = appendString(b, d.Reason)
		b = binary.AppendUvarint(b, uint64(max(d.Attempt, 0)))
		b = binary.AppendUvarint(b, uint64(max(d.Processing, 0)))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func appendName(b []byte, table []string, s string) []byte {
	if i := slices.Index(table, s); i >= 0 {
		return append(b, byte(i+1))
	}
	return appendString(append(b, 0), s)
}

func appendID(b []byte, id string) []byte {
	if u, ok := uuidBytes(id); ok {
		return append(append(b, idUUID), u...)
	}
	if rest, ok := cutLowerHex(id, derivedPrefix, 32); ok {
		return append(append(b, idDerived), rest...)
	}
	return appendString(append(b, idRaw), id)
}

// uuidBytes packs a lowercase canonical UUID; any other spelling is kept
// as it came, so that it reads back the same.
func uuidBytes(s string) ([]byte, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return nil, false
	}
	h := s[0:8] + s[9:13] + s[14:18] + s[19:23] + s[24:36]
	_, ok := cutLowerHex(h, "", 32)
	if !ok {
		return nil, false
	}
	u, _ := hex.DecodeString(h)
	return u, true
}

// cutLowerHex returns the bytes of s after prefix when they are n lowercase
// hex digits.
func cutLowerHex(s, prefix string, n int) ([]byte, bool) {
	if len(s) != len(prefix)+n || s[:len(prefix)] != prefix {
		return nil, false
	}
	h := s[len(prefix):]
	for i := 0; i < len(h); i++ {
		if c := h[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return nil, false
		}
	}
	out, err := hex.DecodeString(h)
	return out, err == nil
}

var errCodec = errors.New("delivery log entry: malformed")

type reader struct {
	b   []byte
	err error
}

func (r *reader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.fail()
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) byte() byte {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail()
		return ""
	}
	return string(r.bytes(int(n)))
}

func (r *reader) name(table []string) string {
	i := int(r.byte())
	switch {
	case i == 0:
		return r.string()
	case i <= len(table):
		return table[i-1]
	}
	r.fail()
	return ""
}

func (r *reader) id() string {
	switch r.byte() {
	case idRaw:
		return r.string()
	case idUUID:
		h := hex.EncodeToString(r.bytes(16))
		if len(h) != 32 {
			return ""
		}
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	case idDerived:
		return derivedPrefix + hex.EncodeToString(r.bytes(16))
	}
	r.fail()
	return ""
}

func (r *reader) fail() {
	if r.err == nil {
		r.err = errCodec
	}
	r.b = nil
}

func decodeEntries(b []byte) ([]store.Delivery, error) {
	if len(b) == 0 || b[0] != codecVersion {
		return nil, fmt.Errorf("%w: unknown version", errCodec)
	}
	r := &reader{b: b[1:]}
	var out []store.Delivery
	var prev int64
	for len(r.b) > 0 && r.err == nil {
		var d store.Delivery
		flags := r.uvarint()
		d.Redriven, d.Backfilled = flags&flagRedriven != 0, flags&flagBackfilled != 0
		d.ID = r.id()
		d.MessageID = r.id()
		d.Event = r.name(entryEvents)
		d.AccountID = r.varint()
		d.ConversationID = r.varint()
		at := r.varint()
		if len(out) > 0 {
			at += prev
		}
		prev = at
		d.At = time.Unix(0, at).UTC()
		if flags&flagReceived != 0 {
			d.ReceivedAt = time.Unix(0, at-r.varint()).UTC()
		}
		d.Outcome = r.name(entryOutcomes)
		d.Reason = r.string()
		d.Attempt = int(r.uvarint())
		d.Processing = time.Duration(r.uvarint())
		out = append(out, d)
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}
