package sqlitequeue

import (
	"os"
	"strings"
	"time"
)

// Crash stops q as a kill -9 would: the journal is neither moved nor
// deleted, and its lock is released. The queue must not be used afterwards.
func (q *Queue) Crash() {
	q.closeOne.Do(func() {
		close(q.stop)
		q.wg.Wait()
		if j := q.in; j != nil {
			intakes.mu.Lock()
			delete(intakes.open, j.key)
			intakes.mu.Unlock()
			j.mu.Lock()
			j.closed = true
			j.mu.Unlock()
			close(j.stop)
			j.wg.Wait()
			_ = j.release()
		}
		_ = q.db.Close()
	})
}

// Journaled says whether sends go through the intake journal.
func (q *Queue) Journaled() bool { return q.in != nil }

// Segments lists the journal's segment files.
func Segments(path, name string) []string {
	des, _ := os.ReadDir(path + ".intake." + name)
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
	dir := path + ".intake." + name
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	var b []byte
	for i := range ids {
		start := len(b)
		b = appendRecord(b, entry{id: ids[i], sentAt: 1, attrs: `{"k":"v"}`, body: bodies[i]})
		sealRecord(b[start:], seg)
	}
	b = append(b, tail...)
	return os.WriteFile(segmentPath(dir, seg), b, 0o600)
}

// LockJournal takes the journal's lock as another process would.
func LockJournal(path, name string) (*os.File, error) {
	dir := path + ".intake." + name
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	return lockDir(dir)
}

// Record encodes one record as segment seg would hold it.
func Record(seg int64, id string, body []byte) []byte {
	b := appendRecord(nil, entry{id: id, sentAt: 1, attrs: `{}`, body: body})
	sealRecord(b, seg)
	return b
}

// Spare says whether the journal has a spare segment file.
func Spare(path, name string) bool {
	_, err := os.Stat(path + ".intake." + name + "/" + spareName)
	return err == nil
}

// Saturate makes the journal's mover see a saturated edge for d.
func (q *Queue) Saturate(d time.Duration) { q.in.busyUntil.Store(time.Now().Add(d).UnixNano()) }

// Unmoved counts the acknowledged sends not yet in SQLite.
func (q *Queue) Unmoved() int {
	q.in.cmu.Lock()
	defer q.in.cmu.Unlock()
	return len(q.in.committed)
}

// SetDeferAge changes deferAge until the returned func is called.
func SetDeferAge(d time.Duration) func() {
	old := deferAge
	deferAge = int64(d)
	return func() { deferAge = old }
}

// Observe counts n sends as the flusher does and says whether the edge is busy.
func (q *Queue) Observe(n int) bool { return q.in.observe(n) }
