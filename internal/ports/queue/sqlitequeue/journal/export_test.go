package journal

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Crash releases j, its last handle, as a kill -9 would: the journal is
// neither moved nor deleted, and its lock is released. j must not be used
// afterwards.
func (j *Journal) Crash() {
	_ = journals.Release(j.key, j, func(j *Journal) error {
		j.halt()
		return j.release()
	})
}

// Segments lists the journal's segment files.
func Segments(path, name string) []string {
	des, _ := os.ReadDir(journalDir(path, name))
	var out []string
	for _, de := range des {
		if strings.HasSuffix(de.Name(), ".log") {
			out = append(out, de.Name())
		}
	}
	return out
}

// SetSegmentMax changes the segment size until the returned func is called.
func SetSegmentMax(n int64) func() {
	old := segmentMax
	segmentMax = n
	return func() { segmentMax = old }
}

// WriteSegment writes records (and then tail) as segment seg of the journal,
// as a previous owner would have left them.
func WriteSegment(path, name string, seg int64, ids []string, bodies [][]byte, tail []byte) error {
	dir := journalDir(path, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var b []byte
	for i := range ids {
		start := len(b)
		b = appendRecord(b, Entry{ID: ids[i], SentAt: 1, Attrs: `{"k":"v"}`, Body: bodies[i]})
		sealRecord(b[start:], seg)
	}
	b = append(b, tail...)
	return os.WriteFile(segmentPath(dir, seg), b, 0o600)
}

// Record encodes one record as segment seg would hold it.
func Record(seg int64, id string, body []byte) []byte {
	b := appendRecord(nil, Entry{ID: id, SentAt: 1, Attrs: `{}`, Body: body})
	sealRecord(b, seg)
	return b
}

// Spare says whether the journal has a spare segment file.
func Spare(path, name string) bool {
	_, err := os.Stat(filepath.Join(journalDir(path, name), spareName))
	return err == nil
}

// Saturate makes the journal's mover see a saturated edge for d.
func (j *Journal) Saturate(d time.Duration) { j.busyUntil.Store(time.Now().Add(d).UnixNano()) }

// Unmoved counts the acknowledged sends not yet in SQLite.
func (j *Journal) Unmoved() int {
	j.cmu.Lock()
	defer j.cmu.Unlock()
	return len(j.committed)
}

// SetDeferAge changes deferAge until the returned func is called.
func SetDeferAge(d time.Duration) func() {
	old := deferAge
	deferAge = int64(d)
	return func() { deferAge = old }
}

// Insert commits es as a move does, without an fsync, at positions from
// off in segment 1.
func (j *Journal) Insert(ctx context.Context, es []Entry, off int64) error {
	for k := range es {
		es[k].end = pos{1, off + int64(k)}
	}
	return j.insert(ctx, es, es[len(es)-1].end, false)
}

// Observe counts n sends as the flusher does and says whether the edge is busy.
func (j *Journal) Observe(n int) bool { return j.observe(n) }
