package ringcache

import (
	"iter"

	"github.com/ringcache/ringcache/shard"
)

// Iteration over the entries: All and Keys.

// All returns an iterator over the cache's entries, for range loops:
//
//	for key, value := range c.All() { ... }
//
// It is weakly consistent, as sync.Map's Range: an entry present and
// unchanged for the whole iteration is yielded exactly once, one that
// expired before its shard was reached is not, and a value stored in
// chunks is yielded whole or not at all; entries written or deleted while
// it runs may or may not be seen. The slices are valid until the loop
// body returns (copy them to keep them) and must not be modified.
//
// It copies one shard at a time under that shard's lock, so writers wait
// for one shard's copy at most, and runs the loop body with no lock held:
// the body may call any method of the cache. Its buffers grow to one
// shard's entries and are reused, so it allocates per iteration, not per
// entry. It counts no reads: Stats and the eviction policy do not see it
// (the chunks of a chunked value excepted, which are read as Get reads
// them). Tombstones and stale values kept for the loading layer are not
// entries a read returns, and are not yielded.
func (c *engine) All() iter.Seq2[[]byte, []byte] {
	return func(yield func(key, value []byte) bool) {
		c.each(true, yield)
	}
}

// Keys returns an iterator over the keys of the cache's entries, on the
// terms of All, without copying or decompressing their values.
func (c *engine) Keys() iter.Seq[[]byte] {
	return func(yield func(key []byte) bool) {
		c.each(false, func(key, _ []byte) bool { return yield(key) })
	}
}

// each runs yield for every entry a read returns, shard by shard; with
// values false it passes nil for the value.
func (c *engine) each(values bool, yield func(key, value []byte) bool) {
	if c.closed.Load() {
		return
	}
	var entries, value []byte
	var offs []int
	for i := range c.shards {
		now := c.clock.Now()
		entries, offs = c.shards[i].AppendLive(entries[:0], offs, now)
		for rest := entries; len(rest) > 0; {
			var key, v []byte
			var framed bool
			key, v, framed, _, rest = shard.LiveEntry(rest)
			out, ok := c.yielded(value[:0], key, v, framed, now, values)
			if !ok {
				continue
			}
			if values {
				value = out
			}
			if !yield(key, out) {
				return
			}
		}
	}
}

// yielded decides what an iteration yields for a stored entry: the value
// a read would return (appended to dst), or with values false only
// whether there is one. Chunks, tombstones and stale values are not.
func (c *engine) yielded(dst, key, v []byte, framed bool, now int64, values bool) ([]byte, bool) {
	e := c.found(v, framed, now)
	switch {
	case e.state != stateLive:
		return dst, false
	case e.chunked() && !values:
		return nil, c.chunksPresent(c.hasher.Sum(key), e.m, now)
	case e.chunked():
		return c.gather(dst, c.hasher.Sum(key), e.m, now)
	case !values:
		return nil, true
	}
	out := dst
	if !c.withValue(e.f, e.payload, func(b []byte) { out = append(dst, b...) }) {
		return dst, false
	}
	return out, true
}
