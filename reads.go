package ringcache

import (
	"time"
	"unsafe"

	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// The reads: Get and GetFunc, which count, and Has and TTL, which do not.
// Get (and GetOrLoad's hit) reads without the shard lock where the
// region allows it (see shard/optimistic.go).

// Get appends the value stored under key to dst and returns it with true,
// or returns dst unchanged with false on a miss. It does not allocate when
// dst has room for the value. After Close every Get misses. key may lie
// in dst's spare capacity (Get(buf[:0], buf)): the value then goes to a
// new array, and key is left as it was.
//
// Where the cache's memory is mapped outside the Go heap (Linux), a Get
// takes no lock: it copies the value while no write overlaps, and tries
// again or locks when one does (docs/engine.md). A compressed value, a
// value in chunks, a tombstone or stale value of the loading layer, and an
// entry whose time has passed are read under the shard lock.
func (c *engine) Get(dst, key []byte) ([]byte, bool) {
	dst = apart(dst, key)
	h := c.hasher.Sum(key)
	now := c.clock.Now()
	s := c.shardFor(h)
	if c.optimistic {
		switch out, o := c.getUnlocked(s, dst, h, key, now, 0); o {
		case shard.Hit:
			return out, true
		case shard.Miss:
			s.Missed(h)
			return dst, false
		}
	}
	out := dst
	var big manifest
	ok, _ := s.Read(h, key, now, func(v []byte, framed bool) bool {
		if !framed { // the hot path, without a call: read is not inlined
			out = append(dst, v...)
			return true
		}
		e, ok := c.read(v, framed, now, &big)
		return ok && (e.chunked() || c.withValue(e.f, e.payload, func(b []byte) { out = append(dst, b...) }))
	})
	return c.gathered(dst, out, ok, h, &big, now)
}

// getUnlocked is the read without the shard lock (see Shard.Get) for Get
// and GetOrLoad: it reports Hit with the value appended to dst, Miss
// (uncounted: GetOrLoad reads a miss again under the lock, for the key's
// write generation, and counts it there), or Locked for a read the caller
// must make under the lock. A framed value is served here when it needs
// neither the lock nor a scratch buffer: a fresh, uncompressed value not
// in the last refreshShare of its life; tombstones, stale, compressed and
// chunked values go to the lock.
func (c *engine) getUnlocked(s *shard.Shard, dst []byte, h uint64, key []byte, now int64, refreshShare float64) ([]byte, shard.Outcome) {
	var head [shard.MaxFrameHead]byte
	out, o, seen := s.Get(dst, h, key, now, &head)
	switch o {
	case shard.Hit:
		c.hits.add()
		return out, shard.Hit
	case shard.Miss:
		return dst, shard.Miss
	case shard.Framed:
		// The copy was validated: head is the entry's frame and out its
		// payload, and copiesFramed let only uncompressed values be
		// copied.
		f, _ := decode(head[:frameSize], true)
		if f.kind != kindValue || f.codec != NoCompression || c.clock.Expired(f.fresh, now) || f.due(refreshShare, now) {
			return dst, shard.Locked
		}
		s.Served(seen)
		c.hits.add()
		return out, shard.Hit
	}
	return dst, shard.Locked
}

// GetFunc calls fn with the value stored under key and reports whether it
// did. The slice aliases cache memory (or, for a compressed value, a
// scratch buffer; for a value stored in chunks, a buffer allocated for
// the call): it is valid only until fn returns, must not be
// modified, and fn must not call the cache (its shard is locked while fn
// runs). A nil fn makes GetFunc a counted lookup.
func (c *engine) GetFunc(key []byte, fn func(value []byte)) bool {
	h := c.hasher.Sum(key)
	now := c.clock.Now()
	call := func(b []byte) {
		if fn != nil {
			fn(b)
		}
	}
	var big manifest
	ok, _ := c.shardFor(h).Read(h, key, now, func(v []byte, framed bool) bool {
		if !framed { // the hot path, without a call: read is not inlined
			call(v)
			return true
		}
		e, ok := c.read(v, framed, now, &big)
		return ok && (e.chunked() || c.withValue(e.f, e.payload, call))
	})
	if ok && big.chunks > 0 {
		// Gathered into a buffer of its own, which no pool keeps: a pool
		// would hold one of the largest value's size per P.
		var v []byte
		if v, ok = c.gather(nil, h, big, now); ok {
			call(v)
		}
	}
	return ok
}

// Has reports whether key holds a live entry. It neither counts as a hit
// or miss nor marks the entry as recently used.
func (c *engine) Has(key []byte) bool {
	h := c.hasher.Sum(key)
	now := c.clock.Now()
	var big manifest
	ok := c.shardFor(h).Peek(h, key, now, func(v []byte, framed bool, _ int64) bool {
		_, ok := c.read(v, framed, now, &big)
		return ok
	})
	return c.present(ok, h, &big, now)
}

// TTL returns the time key's entry has left to live, rounded to the
// clock's millisecond, and true; zero with true means the entry never
// expires. A missing or expired key returns false.
func (c *engine) TTL(key []byte) (time.Duration, bool) {
	h := c.hasher.Sum(key)
	now := c.clock.Now()
	var left time.Duration
	var big manifest
	ok := c.shardFor(h).Peek(h, key, now, func(v []byte, framed bool, expiry int64) bool {
		e, ok := c.read(v, framed, now, &big)
		if framed {
			expiry = e.f.fresh
		}
		left = ttl.Remaining(expiry, now)
		return ok
	})
	if !c.present(ok, h, &big, now) {
		return 0, false
	}
	return left, true
}

// apart returns dst, capped at its length when key lies in its spare
// capacity: a read still compares and hashes key after it has begun to
// append to dst (a retried lock-free read, a load), so appending over it
// would change the key mid-call. Capped, an append copies dst elsewhere.
func apart(dst, key []byte) []byte {
	if len(dst) == cap(dst) || len(key) == 0 {
		return dst
	}
	base := uintptr(unsafe.Pointer(unsafe.SliceData(dst)))
	k := uintptr(unsafe.Pointer(unsafe.SliceData(key)))
	if k < base+uintptr(cap(dst)) && k+uintptr(len(key)) > base+uintptr(len(dst)) {
		return dst[:len(dst):len(dst)]
	}
	return dst
}
