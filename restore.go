package ringcache

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"

	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// Loading a snapshot back: ReadFrom and LoadFile, and SaveFile beside them.

// ReadFrom loads a snapshot that WriteTo wrote into the cache, over what
// it holds, and returns the bytes read. Entries keep the life they had
// left when saved, less the time since; those that expired meanwhile are
// skipped. A cache of another Capacity or shard count loads it too: the
// entries come most recently used first within each saved shard, each is
// stored as an entry that earned its place if its shard has room without
// evicting, and an entry of the same key already in the cache wins, so a
// smaller cache keeps the snapshot's most recent entries and ReadFrom
// never evicts what the cache held. Each section is
// checked whole (its length and checksum) before any of its entries is
// stored: bad input gives an error wrapping ErrCorrupt, never a wrong
// value; the sections that passed their checks are loaded. The sections
// are stored on as many goroutines as GOMAXPROCS. ErrClosed after Close.
func (c *engine) ReadFrom(r io.Reader) (int64, error) {
	if c.closed.Load() {
		return 0, ErrClosed
	}
	cr := &countingReader{r: r}
	var head [headerLen]byte
	if _, err := io.ReadFull(cr, head[:]); err != nil {
		return cr.n, corrupt("header: %v", err)
	}
	if string(head[:8]) != snapshotMagic {
		return cr.n, corrupt("not a ringcache snapshot")
	}
	if v := binary.LittleEndian.Uint32(head[8:]); v != snapshotVersion {
		return cr.n, corrupt("format version %d, this package reads %d", v, snapshotVersion)
	}
	// One goroutine reads and checks sections; the cores store them.
	ld := newRestorer(c)
	var sections uint32
	var entries uint64
	for {
		var magic [4]byte
		if _, err := io.ReadFull(cr, magic[:]); err != nil {
			return cr.n, ld.finish(corrupt("section %d: %v", sections, err))
		}
		if string(magic[:]) == trailerMagic {
			var tail [4 + 8]byte
			if _, err := io.ReadFull(cr, tail[:]); err != nil {
				return cr.n, ld.finish(corrupt("trailer: %v", err))
			}
			if binary.LittleEndian.Uint32(tail[:]) != sections || binary.LittleEndian.Uint64(tail[4:]) != entries {
				return cr.n, ld.finish(corrupt("trailer counts %d sections, %d entries; read %d, %d",
					binary.LittleEndian.Uint32(tail[:]), binary.LittleEndian.Uint64(tail[4:]), sections, entries))
			}
			return cr.n, ld.finish(nil)
		}
		if string(magic[:]) != sectionMagic {
			return cr.n, ld.finish(corrupt("section %d: no section mark", sections))
		}
		var sh [sectionHeadLen - len(sectionMagic)]byte
		if _, err := io.ReadFull(cr, sh[:]); err != nil {
			return cr.n, ld.finish(corrupt("section %d: %v", sections, err))
		}
		count, length := binary.LittleEndian.Uint32(sh[:]), int64(binary.LittleEndian.Uint32(sh[4:]))
		// Read as the bytes come, so that a length the checksum has not
		// vouched for yet allocates no more than the input holds.
		buf := ld.buffers.Get().(*bytes.Buffer)
		buf.Reset()
		// Room for a section of the size writers make, so that its bytes
		// are read straight into place.
		buf.Grow(int(min(length+8, 2*maxSection)) + bytes.MinRead)
		if _, err := io.CopyN(buf, cr, length+8); err != nil {
			return cr.n, ld.finish(corrupt("section %d: %v", sections, err))
		}
		if xxhash.Sum64(buf.Bytes()[:length]) != binary.LittleEndian.Uint64(buf.Bytes()[length:]) {
			return cr.n, ld.finish(corrupt("section %d: checksum mismatch", sections))
		}
		ld.work <- section{buf: buf, length: int(length), count: count, index: sections}
		sections++
		entries += uint64(count)
	}
}

// restorer stores checked sections on as many goroutines as there are
// cores: each parses and groups a section's entries by shard on its own,
// and stores each group in its shard only after the sections before it
// stored theirs there. A cache too small for the snapshot keeps what its
// shards took first, so that order is what keeps the most recent entries.
type restorer struct {
	c       *engine
	work    chan section
	wg      sync.WaitGroup
	mu      sync.Mutex
	err     error
	buffers sync.Pool
	// next is, for each shard, the index of the section whose group it
	// takes next.
	next []atomic.Uint32
}

type section struct {
	buf          *bytes.Buffer
	length       int
	count, index uint32
}

func newRestorer(c *engine) *restorer {
	workers := runtime.GOMAXPROCS(0)
	ld := &restorer{c: c, work: make(chan section, workers), next: make([]atomic.Uint32, len(c.shards))}
	ld.buffers.New = func() any { return new(bytes.Buffer) }
	for range workers {
		ld.wg.Add(1)
		go func() {
			defer ld.wg.Done()
			var batch restoreBatch
			for s := range ld.work {
				n, err := c.parseSection(s.buf.Bytes()[:s.length], &batch)
				if err == nil && n != s.count {
					err = corrupt("section %d: %d entries, its head says %d", s.index, n, s.count)
				}
				if err != nil {
					ld.mu.Lock()
					ld.err = cmp.Or(ld.err, err)
					ld.mu.Unlock()
					batch.reset(len(c.shards)) // a bad section stores nothing
				}
				ld.store(s.index, &batch)
				ld.buffers.Put(s.buf)
			}
		}()
	}
	return ld
}

// store stores a section's groups, each in its shard's turn. Sections are
// handed out in order and each waits only for earlier ones, which other
// workers already hold, so the wait always ends; it is short, as the one
// before is storing into that shard or has passed it.
func (ld *restorer) store(index uint32, batch *restoreBatch) {
	now := ld.c.clock.Now()
	for i, es := range batch.groups() {
		for ld.next[i].Load() != index {
			runtime.Gosched()
		}
		if len(es) > 0 {
			ld.c.shards[i].RestoreAll(now, es)
		}
		ld.next[i].Store(index + 1)
	}
}

// finish waits for the sections handed out and returns err, or the first
// error storing them.
func (ld *restorer) finish(err error) error {
	close(ld.work)
	ld.wg.Wait()
	return cmp.Or(err, ld.err)
}

// parseSection groups the entries of a checked section's payload by
// shard, in their order, so that each shard is locked once per section,
// and returns how many it held. The payload is the reader's: framed values
// are rewritten in it to memory's frame. A value stored in chunks is
// stored here, as its chunks go to other shards.
func (c *engine) parseSection(b []byte, batch *restoreBatch) (uint32, error) {
	var n uint32
	now := c.clock.Now()
	nowWall := c.clock.Wall(now)
	batch.reset(len(c.shards))
	for len(b) > 0 {
		if len(b) < entryHeadLen {
			return n, corrupt("an entry's head is cut short")
		}
		kl, vl := int(binary.LittleEndian.Uint16(b)), int(binary.LittleEndian.Uint32(b[2:]))
		framed, wall := b[6] == 1, int64(binary.LittleEndian.Uint64(b[7:]))
		if b[6] > 1 || len(b)-entryHeadLen < kl+vl || (framed && vl < wideFrame) {
			return n, corrupt("an entry's lengths or flags are out of range")
		}
		key, value := b[entryHeadLen:entryHeadLen+kl], b[entryHeadLen+kl:entryHeadLen+kl+vl]
		b = b[entryHeadLen+kl+vl:]
		n++
		if wall != 0 && wall <= nowWall {
			continue // expired while the snapshot waited
		}
		expiry := c.stampOf(wall)
		if framed {
			if !savedFrame(value) {
				return n, corrupt("an entry's frame is not a value's")
			}
			value = c.narrowFrame(value)
		}
		switch h := c.hasher.Sum(key); {
		case len(key) > c.maxKey || len(key)+len(value) > c.maxChunked:
			// What this cache cannot hold is skipped.
		case !framed && len(key)+len(value) > c.maxEntry:
			_, _ = c.setChunked(h, key, value, frame{fresh: expiry, born: now}, expiry, false, 0)
		default:
			batch.add(int(h>>c.shift), shard.Restored{H: h, Key: key, Value: value, Expiry: expiry, Framed: framed})
		}
	}
	return n, nil
}

// restoreBatch groups a section's entries by shard, keeping their order;
// a loading goroutine reuses one.
type restoreBatch struct {
	entries []shard.Restored
	shardOf []int32
	counts  []int
	sorted  []shard.Restored
}

func (b *restoreBatch) reset(shards int) {
	b.entries, b.shardOf = b.entries[:0], b.shardOf[:0]
	b.counts = slices.Grow(b.counts[:0], shards+1)[:shards+1]
	clear(b.counts)
}

func (b *restoreBatch) add(shard int, e shard.Restored) {
	b.entries = append(b.entries, e)
	b.shardOf = append(b.shardOf, int32(shard))
	b.counts[shard+1]++
}

// groups sorts the entries by shard (a counting sort, stable) and yields
// each shard's run.
func (b *restoreBatch) groups() func(yield func(int, []shard.Restored) bool) {
	return func(yield func(int, []shard.Restored) bool) {
		for i := 1; i < len(b.counts); i++ {
			b.counts[i] += b.counts[i-1]
		}
		b.sorted = slices.Grow(b.sorted[:0], len(b.entries))[:len(b.entries)]
		next := slices.Clone(b.counts[:len(b.counts)-1])
		for i, e := range b.entries {
			s := b.shardOf[i]
			b.sorted[next[s]] = e
			next[s]++
		}
		for s := 0; s < len(b.counts)-1; s++ {
			if !yield(s, b.sorted[b.counts[s]:b.counts[s+1]]) {
				return
			}
		}
	}
}

// savedFrame reports whether v begins with a frame WriteTo writes: a
// value's, with a known codec, and room for its version if it has one.
func savedFrame(v []byte) bool {
	kind, codec := readHead(v[0])
	need := wideFrame
	if v[0]&versionedBit != 0 {
		need += versionSize
	}
	return kind == kindValue && codec <= Zstd && v[0]&^headBits == 0 && len(v) >= need
}

// narrowFrame turns a saved frame (wideFrame bytes, Unix ms) into memory's
// (frameSize bytes, clock readings), in place, and returns the value.
func (c *engine) narrowFrame(v []byte) []byte {
	head := v[0]
	fresh := c.stampOf(int64(binary.LittleEndian.Uint64(v[1:])))
	born := c.stampOf(int64(binary.LittleEndian.Uint64(v[9:])))
	v = v[wideFrame-frameSize:]
	v[0] = head
	ttl.PutStamp(v[1:], fresh)
	ttl.PutStamp(v[1+ttl.StampSize:], born)
	return v
}

// stampOf is wallOf's inverse: 0 is Never, and a time before the clock's
// epoch its first reading.
func (c *engine) stampOf(wall int64) int64 {
	if wall == 0 {
		return ttl.Never
	}
	return max(c.clock.FromWall(wall), 1)
}

// SaveFile writes the cache's snapshot (see WriteTo) to path: to a
// temporary file beside it first, synced and then renamed, so that path
// holds the previous snapshot or the whole new one, never a part.
func (c *engine) SaveFile(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // after a rename, nothing to remove
	w := bufio.NewWriterSize(f, 1<<20)
	_, err = c.WriteTo(w)
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// LoadFile loads the snapshot at path into the cache (see ReadFrom). A
// snapshot of a quarter of the cache's capacity or more first has the
// cache's memory faulted in at once (arena.Region.Populate), which is far
// cheaper than a page fault per page as entries arrive.
func (c *engine) LoadFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() >= c.capacity/4 && !c.closed.Load() {
		c.region.Populate()
	}
	_, err = c.ReadFrom(bufio.NewReaderSize(f, 1<<20))
	return err
}

// countingReader counts the bytes ReadFrom consumed.
type countingReader struct {
	r io.Reader
	n int64
}

func (cr *countingReader) Read(p []byte) (int, error) {
	n, err := cr.r.Read(p)
	cr.n += int64(n)
	return n, err
}
