package ringcache

import (
	"encoding/binary"
	"math/rand/v2"

	"github.com/cespare/xxhash/v2"

	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// Values too large for one shard are stored in chunks. Each chunk is an
// entry of its own, under a key of a marker byte, a random id drawn for
// this write and the chunk's number; chunk i goes to the (i+1)-th shard
// after the key's own, and no value has more chunks than there are other
// shards, so that no shard takes two pieces of one value and a write
// cannot evict its own chunks. Its value is framed as a chunk, and
// compressed on its own when Config.Compression saves space on it, so
// that neither a write nor a read needs more scratch than one chunk.
// Under the key itself a manifest entry names the id, the chunk count,
// the value's length and an xxhash64 of its bytes. A read gathers the
// chunks, checks that each is a chunk, and checks the length and
// checksum of the whole:
// a chunk evicted, expired or overwritten makes the read a miss, never a
// wrong value. Chunks live and are evicted like any entry, so
// Config.Capacity bounds them too.

const (
	chunkMarker  = 0xff
	chunkSuffix  = 1 + 8 + 4 // marker, id, chunk number
	manifestSize = 8 + 4 + 8 + 8
	// maxChunkedShare: a chunked value may take at most this fraction of
	// the capacity (an eighth), so that one write cannot flush the cache.
	maxChunkedShare = 8
)

// manifest is the decoded payload of a chunked value's head entry.
type manifest struct {
	id     uint64
	chunks int
	length int    // bytes stored, over all chunks
	sum    uint64 // xxhash64 of those bytes
}

func putManifest(b []byte, m manifest) {
	binary.LittleEndian.PutUint64(b, m.id)
	binary.LittleEndian.PutUint32(b[8:], uint32(m.chunks))
	binary.LittleEndian.PutUint64(b[12:], uint64(m.length))
	binary.LittleEndian.PutUint64(b[20:], m.sum)
}

func readManifest(b []byte) (manifest, bool) {
	if len(b) != manifestSize {
		return manifest{}, false
	}
	return manifest{
		id:     binary.LittleEndian.Uint64(b),
		chunks: int(binary.LittleEndian.Uint32(b[8:])),
		length: int(binary.LittleEndian.Uint64(b[12:])),
		sum:    binary.LittleEndian.Uint64(b[20:]),
	}, true
}

// gathered finishes a read that appended out to dst, or found nothing
// (ok false). A read that finds the head of a value in chunks takes its
// manifest into big under the shard lock (engine.read) and leaves the
// chunks, entries of other shards, to this: they are gathered into dst
// instead (dst and false when one is gone).
func (c *engine) gathered(dst, out []byte, ok bool, h uint64, big *manifest, now int64) ([]byte, bool) {
	switch {
	case !ok:
		return dst, false
	case big.chunks == 0:
		return out, true
	}
	return c.gather(dst, h, *big, now)
}

// present finishes a read that copies nothing and reports ok: when the
// read found the head of a chunked value, whether every chunk is still
// there too.
func (c *engine) present(ok bool, h uint64, big *manifest, now int64) bool {
	return ok && (big.chunks == 0 || c.chunksPresent(h, *big, now))
}

// chunkBytes is the payload of a full chunk in a cache whose shards
// store shardLimit bytes of key and value.
func chunkBytes(shardLimit int) int { return shardLimit - chunkSuffix - frameSize }

// maxChunked is the largest len(key)+len(value) the cache stores: an
// eighth of the capacity, in at most one chunk per shard other than the
// key's own (so that the manifest's write cannot push a chunk out of its
// shard's probation), or, when that is less, what one shard stores of a
// loaded value, which carries a frame.
func maxChunked(capacity int64, shards, shardLimit int) int {
	most := min(capacity/maxChunkedShare, int64(shards-1)*int64(chunkBytes(shardLimit)))
	return max(shardLimit-frameSize, int(min(most, int64(^uint(0)>>1))))
}

// maxChunkedKey is the longest key stored with any value up to
// maxChunked: one whose manifest fits a shard, when values are chunked.
func maxChunkedKey(shardLimit, maxChunked int) int {
	if maxChunked <= shardLimit-frameSize {
		return MaxKeyLen
	}
	return min(MaxKeyLen, shardLimit-frameSize-manifestSize)
}

// chunkShard is the shard of chunk i of the value under a key hashing to h.
func (c *engine) chunkShard(h uint64, i int) *shard.Shard {
	return &c.shards[(int(h>>c.shift)+1+i)%len(c.shards)].Shard
}

// chunkKey appends the key of chunk i of the value written with id to
// dst. The id alone tells values apart: 64 random bits, drawn per write.
func chunkKey(dst []byte, id uint64, i int) []byte {
	dst = append(dst, chunkMarker)
	dst = binary.LittleEndian.AppendUint64(dst, id)
	return binary.LittleEndian.AppendUint32(dst, uint32(i))
}

// setChunked stores a value too large for a shard in chunks, each
// compressed on its own when that saves space, behind a manifest under
// key framed by f (its kind is set here); expiry is the entries' engine
// expiry. With ifGen, the manifest is stored only if key's write
// generation is still gen, and the result says whether it was. It holds
// no more than one chunk of scratch, whatever the value's size.
func (c *engine) setChunked(h uint64, key, value []byte, f frame, expiry int64, ifGen bool, gen uint32) (bool, error) {
	if len(key)+len(value) > c.maxChunked {
		return false, ErrEntryTooLarge
	}
	now := c.clock.Now()
	m := manifest{id: rand.Uint64(), length: len(value), sum: xxhash.Sum64(value)}
	per := chunkBytes(c.maxEntry)
	m.chunks = (len(value) + per - 1) / per

	vp := c.borrow()
	defer c.giveBack(vp)
	var err error
	written, saved := 0, 0
	c.eachChunk(h, m.id, m.chunks, func(s *shard.Shard, ch uint64, ck []byte, i int) bool {
		cv, n := c.codecs.frame((*vp)[:0], value[i*per:min((i+1)*per, len(value))], frame{kind: kindChunk, fresh: f.fresh, born: now})
		*vp = cv
		if err = s.Set(ch, ck, cv, now, expiry, true); err != nil {
			return false
		}
		written++
		saved += n
		return true
	})
	if err != nil {
		c.dropChunks(h, m, written)
		return false, err
	}
	old := c.manifestOf(h, key, now)
	head := append((*vp)[:0], make([]byte, frameSize+manifestSize)...)
	f.kind, f.codec = kindManifest, NoCompression
	putFrame(head, f)
	putManifest(head[frameSize:], m)
	*vp = head
	s := c.shardFor(h)
	var ok bool
	if ifGen {
		ok, err = s.Fill(h, key, head, now, expiry, true, gen)
	} else {
		err = s.Set(h, key, head, now, expiry, true)
		ok = err == nil
	}
	if !ok {
		c.dropChunks(h, m, m.chunks)
		return false, err
	}
	if old.chunks > 0 && old.id != m.id {
		c.dropChunks(h, old, old.chunks)
	}
	c.saved.Add(uint64(saved))
	return true, nil
}

// manifestOf returns the manifest stored under key, expired or not (the
// zero manifest when there is none), without counting a read.
func (c *engine) manifestOf(h uint64, key []byte, now int64) manifest {
	var m manifest
	c.shardFor(h).Peek(h, key, now, func(v []byte, framed bool, _ int64) bool {
		if f, payload := decode(v, framed); f.kind == kindManifest {
			m, _ = readManifest(payload)
		}
		return false
	})
	return m
}

// eachChunk calls fn with the shard, hash and key of each of the first n
// chunks of the value written with id under a key hashing to h, until fn
// returns false; it reports whether fn never did.
func (c *engine) eachChunk(h, id uint64, n int, fn func(s *shard.Shard, ch uint64, ck []byte, i int) bool) bool {
	if n == 0 {
		return true // before kb, which fn's unknown use of ck puts on the heap
	}
	var kb [chunkSuffix]byte
	for i := range n {
		ck := chunkKey(kb[:0], id, i)
		if !fn(c.chunkShard(h, i), c.hasher.Sum(ck), ck, i) {
			return false
		}
	}
	return true
}

// dropChunks deletes the first n chunks of m's value under a key hashing
// to h.
func (c *engine) dropChunks(h uint64, m manifest, n int) {
	now := c.clock.Now()
	c.eachChunk(h, m.id, n, func(s *shard.Shard, ch uint64, ck []byte, _ int) bool {
		s.Delete(ch, ck, now, nil)
		return true
	})
}

// gather appends the value m describes to dst, chunk by chunk (counted
// reads, so that a hot value's chunks stay); it reports false, with dst
// unchanged, when a chunk is missing or the whole fails its checks.
func (c *engine) gather(dst []byte, h uint64, m manifest, now int64) ([]byte, bool) {
	out := dst
	whole := c.eachChunk(h, m.id, m.chunks, func(s *shard.Shard, ch uint64, ck []byte, _ int) bool {
		ok, _ := s.Read(ch, ck, now, func(v []byte, framed bool) bool {
			f, payload := decode(v, framed)
			return f.kind == kindChunk &&
				c.withValue(f, payload, func(b []byte) { out = append(out, b...) }) &&
				len(out)-len(dst) <= m.length
		})
		return ok
	})
	if !whole || len(out)-len(dst) != m.length || xxhash.Sum64(out[len(dst):]) != m.sum {
		return dst, false
	}
	return out, true
}

// chunksPresent reports whether every chunk of m's value is stored as a
// chunk, without counting reads or reading their bytes (gather checks
// those).
func (c *engine) chunksPresent(h uint64, m manifest, now int64) bool {
	return c.eachChunk(h, m.id, m.chunks, func(s *shard.Shard, ch uint64, ck []byte, _ int) bool {
		return s.Peek(ch, ck, now, isChunk)
	})
}

func isChunk(v []byte, framed bool, _ int64) bool {
	f, _ := decode(v, framed)
	return f.kind == kindChunk
}

// touchChunks gives every chunk of m's value the expiry stamp.
func (c *engine) touchChunks(h uint64, m manifest, fresh, expiry int64) {
	now := c.clock.Now()
	c.eachChunk(h, m.id, m.chunks, func(s *shard.Shard, ch uint64, ck []byte, _ int) bool {
		s.Update(ch, ck, now, func(v []byte, _ bool, _ int64) (int64, bool) {
			ttl.PutStamp(v[1:], fresh)
			return expiry, true
		})
		return true
	})
}
