package ringcache

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/cespare/xxhash/v2"

	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// The snapshot format, the one codec of a saved cache (all integers little
// endian):
//
//	header   "RINGCASH" | format version u32 | saved at, Unix ms i64
//	section  "SECT" | entries u32 | payload length u32 | payload | xxhash64 of payload u64
//	...      sections of whole entries, about maxSection payload bytes each
//	trailer  "DONE" | sections u32 | entries u64
//
//	entry    key length u16 | value length u32 | flags u8 (1: framed) |
//	         expiry, Unix ms i64 (0: never) | key | value
//
// Expiries and a frame's stamps are process-relative clock readings in
// memory; in the file they are wall-clock times, so that an entry keeps
// its remaining life across a restart, and one that expired meanwhile is
// not loaded. A framed value keeps its frame (its compression and
// version) with the stamps rewritten to Unix ms; a value in chunks is
// saved whole and chunked again on loading. Tombstones, stale values and
// chunks are not saved.
const (
	snapshotMagic   = "RINGCASH"
	snapshotVersion = 1
	sectionMagic    = "SECT"
	trailerMagic    = "DONE"
	headerLen       = 8 + 4 + 8
	sectionHeadLen  = 4 + 4 + 4
	entryHeadLen    = 2 + 4 + 1 + 8
	// maxSection is the payload a writer puts in a section before it
	// starts the next, unless one entry (a value saved whole from its
	// chunks) takes more: small enough that the buffers stay in cache and
	// cost few page faults.
	maxSection = 1 << 20
)

// ErrCorrupt is returned by ReadFrom and LoadFile for input that is not a
// snapshot this version of the package wrote whole: a foreign file, a
// newer format, a truncated file or a checksum that does not match. The
// sections read before the fault are loaded, and each was checked whole.
var ErrCorrupt = errors.New("ringcache: corrupt snapshot")

// WriteTo writes the cache's entries to w in the snapshot format (see
// LoadFile) and returns the bytes written. It copies one shard at a time
// under that shard's lock, so reads and writes go on while it runs; an
// entry written meanwhile may or may not be saved. An error of w stops it.
func (c *engine) WriteTo(w io.Writer) (int64, error) {
	sw := &snapshotWriter{w: w}
	var head [headerLen]byte
	copy(head[:], snapshotMagic)
	binary.LittleEndian.PutUint32(head[8:], snapshotVersion)
	binary.LittleEndian.PutUint64(head[12:], uint64(c.clock.Wall(c.clock.Now())))
	sw.write(head[:])
	var entries, value []byte
	var offs []int
	for i := range c.shards {
		now := c.clock.Now()
		entries, offs = c.shards[i].AppendLive(entries[:0], offs, now)
		for rest := entries; len(rest) > 0 && sw.err == nil; {
			var key, v []byte
			var framed bool
			var expiry int64
			key, v, framed, expiry, rest = shard.LiveEntry(rest)
			value = c.saveEntry(sw, value[:0], key, v, framed, expiry, now)
		}
	}
	sw.flush()
	var tail [4 + 4 + 8]byte
	copy(tail[:], trailerMagic)
	binary.LittleEndian.PutUint32(tail[4:], sw.sections)
	binary.LittleEndian.PutUint64(tail[8:], sw.total)
	sw.write(tail[:])
	return sw.n, sw.err
}

// saveEntry adds one stored entry to the snapshot if a read would return
// it; scratch is for a chunked value's bytes, returned for reuse.
func (c *engine) saveEntry(sw *snapshotWriter, scratch, key, v []byte, framed bool, expiry, now int64) []byte {
	wall := c.wallOf(expiry)
	if !framed {
		sw.entry(key, v, wall, nil)
		return scratch
	}
	switch e := c.found(v, framed, now); {
	case e.state != stateLive:
	case e.chunked():
		if out, ok := c.gather(scratch, c.hasher.Sum(key), e.m, now); ok {
			sw.entry(key, out, wall, nil)
			return out[:0]
		}
	default:
		f := e.f
		f.fresh, f.born = c.wallOf(f.fresh), c.wallOf(f.born)
		sw.entry(key, v, wall, &f)
	}
	return scratch
}

// wallOf is stamp as Unix ms, with Never kept as 0.
func (c *engine) wallOf(stamp int64) int64 {
	if stamp == ttl.Never {
		return 0
	}
	return c.clock.Wall(stamp)
}

// putWallFrame writes f's first byte and its stamps as Unix ms, 8 bytes
// each: a saved frame is wideFrame bytes where memory's is frameSize, and
// a version, when there is one, follows either.
func putWallFrame(b []byte, f frame) {
	b[0] = f.head()
	binary.LittleEndian.PutUint64(b[1:], uint64(f.fresh))
	binary.LittleEndian.PutUint64(b[9:], uint64(f.born))
}

// snapshotWriter writes sections of whole entries, each with its checksum.
type snapshotWriter struct {
	w        io.Writer
	n        int64
	err      error
	section  []byte
	count    uint32
	sections uint32
	total    uint64
}

func (sw *snapshotWriter) write(b []byte) {
	if sw.err != nil {
		return
	}
	n, err := sw.w.Write(b)
	sw.n += int64(n)
	sw.err = err
}

// entry adds an entry: value as stored, or, with a frame f (its stamps
// already Unix ms), the frame widened to hold them (see putWallFrame)
// and the rest of value after memory's frame.
func (sw *snapshotWriter) entry(key, value []byte, wall int64, f *frame) {
	vl := len(value)
	if f != nil {
		vl += wideFrame - frameSize
	}
	if len(sw.section)+entryHeadLen+len(key)+vl > maxSection {
		sw.flush()
	}
	var head [entryHeadLen]byte
	binary.LittleEndian.PutUint16(head[0:], uint16(len(key)))
	binary.LittleEndian.PutUint32(head[2:], uint32(vl))
	binary.LittleEndian.PutUint64(head[7:], uint64(wall))
	if f == nil {
		sw.section = append(append(append(sw.section, head[:]...), key...), value...)
	} else {
		head[6] = 1
		sw.section = append(append(sw.section, head[:]...), key...)
		at := len(sw.section)
		sw.section = append(sw.section, make([]byte, wideFrame)...)
		putWallFrame(sw.section[at:], *f)
		sw.section = append(sw.section, value[frameSize:]...)
	}
	sw.count++
	sw.total++
}

// wideFrame is a saved frame's length: the kind byte and two 8-byte
// stamps, where memory's frame has 5-byte ones.
const wideFrame = 1 + 8 + 8

func (sw *snapshotWriter) flush() {
	if sw.count == 0 {
		return
	}
	var head [sectionHeadLen]byte
	copy(head[:], sectionMagic)
	binary.LittleEndian.PutUint32(head[4:], sw.count)
	binary.LittleEndian.PutUint32(head[8:], uint32(len(sw.section)))
	sw.write(head[:])
	sw.write(sw.section)
	var sum [8]byte
	binary.LittleEndian.PutUint64(sum[:], xxhash.Sum64(sw.section))
	sw.write(sum[:])
	sw.section, sw.count = sw.section[:0], 0
	sw.sections++
}

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}
