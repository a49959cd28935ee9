package journal

import (
	"encoding/binary"
	"hash/crc32"
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// crcSeed makes an all-zero header (the zero-filled tail of a segment) fail
// the check.
const crcSeed = 0x5a17e5a1

// A record is its payload's length and checksum, 4 bytes each, little
// endian, then the payload: the id and the attributes, each preceded by its
// length as a uvarint, the send time (8 bytes), the body. The checksum is a
// CRC-32C of the segment's number and the payload, set by sealRecord once
// the segment is known.
func appendRecord(b []byte, e Entry) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	b = binary.AppendUvarint(b, uint64(len(e.ID)))
	b = append(b, e.ID...)
	b = binary.AppendUvarint(b, uint64(len(e.Attrs)))
	b = append(b, e.Attrs...)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.SentAt))
	b = append(b, e.Body...)
	binary.LittleEndian.PutUint32(b[start:], uint32(len(b)-start-8))
	return b
}

// recordLen is the length of e's record.
func recordLen(e Entry) int {
	return 8 + uvarintLen(len(e.ID)) + len(e.ID) + uvarintLen(len(e.Attrs)) + len(e.Attrs) + 8 + len(e.Body)
}

func uvarintLen(n int) int {
	l := 1
	for ; n >= 0x80; n >>= 7 {
		l++
	}
	return l
}

// sealRecord sets the checksum of the record rec for segment seg.
func sealRecord(rec []byte, seg int64) {
	binary.LittleEndian.PutUint32(rec[4:], recordSum(rec[8:], seg))
}

func recordSum(payload []byte, seg int64) uint32 {
	var s [8]byte
	binary.LittleEndian.PutUint64(s[:], uint64(seg))
	return crc32.Update(crc32.Update(crcSeed, crcTable, s[:]), crcTable, payload)
}

// readRecord decodes the record of segment seg at the start of b; ok is
// false at the end of the records (zeros, or the old records of a recycled
// file) or at a torn or corrupt record.
func readRecord(b []byte, seg int64) (e Entry, n int, ok bool) {
	if len(b) < 8 {
		return e, 0, false
	}
	size := int(binary.LittleEndian.Uint32(b))
	if size == 0 || size > recordMax || len(b)-8 < size {
		return e, 0, false
	}
	p := b[8 : 8+size]
	if recordSum(p, seg) != binary.LittleEndian.Uint32(b[4:]) {
		return e, 0, false
	}
	field := func() (string, bool) {
		l, k := binary.Uvarint(p)
		if k <= 0 || uint64(len(p)-k) < l {
			return "", false
		}
		s := string(p[k : k+int(l)])
		p = p[k+int(l):]
		return s, true
	}
	var okID, okAttrs bool
	e.ID, okID = field()
	e.Attrs, okAttrs = field()
	if !okID || !okAttrs || len(p) < 8 {
		return Entry{}, 0, false
	}
	e.SentAt = int64(binary.LittleEndian.Uint64(p))
	e.Body = p[8:]
	return e, 8 + size, true
}
