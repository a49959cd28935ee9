package journal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"supportpipe/internal/ports/private"
)

// rotate starts segment seg+1 in the spare file if one is prepared, else in
// a new file grown on demand. Its directory entry is synced before any
// record in it is acknowledged.
func (j *Journal) rotate() error {
	if j.f != nil {
		if err := j.f.Close(); err != nil {
			return err
		}
		j.f = nil
	}
	path := segmentPath(j.dir, j.seg+1)
	var prepared int64
	j.smu.Lock()
	if j.spare {
		j.spare = false
		if err := os.Rename(filepath.Join(j.dir, spareName), path); err == nil {
			if fi, err := os.Stat(path); err == nil {
				prepared = fi.Size()
			}
		}
	}
	j.smu.Unlock()
	flag := os.O_WRONLY | os.O_CREATE
	if prepared == 0 {
		flag |= os.O_EXCL | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flag, private.File)
	if err != nil {
		return err
	}
	if err := syncDir(j.dir); err != nil {
		f.Close()
		return err
	}
	j.f, j.seg, j.size, j.prepared = f, j.seg+1, 0, prepared
	return nil
}

const spareName, spareTemp = "spare", "spare.tmp"

func (j *Journal) hasSpare() bool {
	j.smu.Lock()
	defer j.smu.Unlock()
	return j.spare
}

// wantSpare asks the preparer for a spare segment unless one is there or
// being made.
func (j *Journal) wantSpare() {
	j.smu.Lock()
	want := !j.spare && !j.preparing
	j.smu.Unlock()
	if want {
		select {
		case j.prepare <- struct{}{}:
		default:
		}
	}
}

// preparer writes spare segments: segmentMax bytes of zeros, fdatasynced,
// then renamed into place. Records written over them later change no
// metadata, so their fdatasyncs stay short.
func (j *Journal) preparer() {
	defer j.wg.Done()
	for {
		select {
		case <-j.prepare:
		case <-j.stop:
			return
		}
		j.smu.Lock()
		if j.spare || j.preparing {
			j.smu.Unlock()
			continue
		}
		j.preparing = true
		j.smu.Unlock()
		ok := j.makeSpare()
		j.smu.Lock()
		j.preparing, j.spare = false, j.spare || ok
		j.smu.Unlock()
	}
}

func (j *Journal) makeSpare() bool {
	tmp := filepath.Join(j.dir, spareTemp)
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, private.File)
	if err != nil {
		return false
	}
	zeros := make([]byte, prepareChunk)
	for off := int64(0); off < segmentMax; off += prepareChunk {
		if _, err := f.WriteAt(zeros[:min(prepareChunk, segmentMax-off)], off); err != nil {
			f.Close()
			return false
		}
		if err := datasync(f); err != nil {
			f.Close()
			return false
		}
		select {
		case <-time.After(preparePause):
		case <-j.stop:
			f.Close()
			return false
		}
	}
	if f.Close() != nil || os.Rename(tmp, filepath.Join(j.dir, spareName)) != nil {
		return false
	}
	return syncDir(j.dir) == nil
}

// removeBelow deletes the segments before seg; one of at least recycleMin
// bytes becomes the spare if there is none, which spares the preparer
// writing one (the first segment, grown on demand, is often smaller than
// segmentMax).
func (j *Journal) removeBelow(seg int64) {
	segs, _ := listSegments(j.dir)
	for _, s := range segs {
		if s >= seg {
			continue
		}
		path := segmentPath(j.dir, s)
		j.smu.Lock()
		if !j.spare && !j.preparing {
			if fi, err := os.Stat(path); err == nil && fi.Size() >= min(recycleMin, segmentMax) &&
				os.Rename(path, filepath.Join(j.dir, spareName)) == nil {
				j.spare = true
				j.smu.Unlock()
				continue
			}
		}
		j.smu.Unlock()
		_ = os.Remove(path)
	}
	j.oldest = max(j.oldest, seg)
}

func segmentPath(dir string, seg int64) string {
	return filepath.Join(dir, fmt.Sprintf("%016x.log", seg))
}

func listSegments(dir string) ([]int64, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), ".log")
		if !ok {
			continue
		}
		if s, err := strconv.ParseInt(name, 16, 64); err == nil && s > 0 {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return out, nil
}
