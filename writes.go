package ringcache

import (
	"time"

	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// The writes: Set, SetWithTTL, Delete and Touch. Conditional writes are in
// conditional.go, chunked values in chunks.go.

// Set stores value under key with Config.DefaultTTL, replacing any earlier
// value. See SetWithTTL.
func (c *engine) Set(key, value []byte) error {
	return c.set(key, value, c.defaultTTL)
}

// SetWithTTL stores value under key, expiring after ttl (0 = never),
// replacing any earlier value (a negative-cache tombstone included) at once
// for every reader. The cache copies both slices. TTLs get Config.TTLJitter
// applied, are rounded up to whole milliseconds, and an expiry more than
// about 34 years after New is clamped to that limit.
//
// Errors: ErrInvalidTTL for a negative ttl, ErrKeyTooLarge (see
// MaxKeySize), ErrEntryTooLarge (see MaxEntrySize), ErrClosed. A failed Set leaves any earlier value in
// place. A successful one may evict other entries to make room.
func (c *engine) SetWithTTL(key, value []byte, ttl time.Duration) error {
	return c.set(key, value, ttl)
}

func (c *engine) set(key, value []byte, d time.Duration) error {
	switch {
	case d < 0:
		return ErrInvalidTTL
	case len(key) > c.maxKey:
		return ErrKeyTooLarge
	case len(key)+len(value) > c.maxChunked:
		return ErrEntryTooLarge
	}
	d = c.jittered(d)
	h := c.hasher.Sum(key)
	s := c.shardFor(h)
	now := c.clock.Now()
	expiry := ttl.Stamp(now, d)
	if len(key)+len(value) > c.maxEntry {
		_, err := c.setChunked(h, key, value, frame{fresh: expiry, born: now}, expiry, false, 0)
		return err
	}
	if !c.codecs.wants(len(value)) {
		return s.Set(h, key, value, now, expiry, false)
	}
	return c.setCompressed(s, h, key, value, now, expiry)
}

// setCompressed is set for a value worth trying compressed. The limit is
// on what the caller gives, not on what it compresses to: whether a value
// fits must not depend on its contents.
func (c *engine) setCompressed(s *shard.Shard, h uint64, key, value []byte, now, expiry int64) error {
	bp := c.borrow()
	defer c.giveBack(bp)
	b, saved := c.codecs.frame((*bp)[:0], value, frame{kind: kindValue, fresh: expiry, born: now})
	*bp = b
	if saved <= frameSize {
		// The frame would take what compression saved: a plain write
		// needs none, and is no larger.
		return s.Set(h, key, value, now, expiry, false)
	}
	err := s.Set(h, key, b, now, expiry, true)
	if err == nil {
		c.saved.Add(uint64(saved))
	}
	return err
}

// Delete removes key and reports whether it held a live entry: one a Get
// would have returned. It removes a negative-cache tombstone and a value
// kept only for stale-if-error too, and reports false for them. A load of
// key in flight when Delete returns stores nothing (see GetOrLoad).
func (c *engine) Delete(key []byte) bool {
	h := c.hasher.Sum(key)
	now := c.clock.Now()
	var big manifest
	live := c.shardFor(h).Delete(h, key, now, func(v []byte, framed bool) bool {
		_, ok := c.read(v, framed, now, &big)
		return ok
	})
	// A value with a chunk gone was no longer one a Get returns.
	live = c.present(live, h, &big, now)
	c.dropChunks(h, big, big.chunks)
	return live
}

// Touch gives key's live entry a new lifetime of d from now (0 = never
// expires; Config.TTLJitter applies) and reports whether there was one. A
// negative d changes nothing and returns false.
func (c *engine) Touch(key []byte, d time.Duration) bool {
	if d < 0 {
		return false
	}
	d = c.jittered(d)
	h := c.hasher.Sum(key)
	now := c.clock.Now()
	fresh := ttl.Stamp(now, d)
	var big manifest
	ok := c.shardFor(h).Update(h, key, now, func(v []byte, framed bool, _ int64) (int64, bool) {
		switch _, ok := c.read(v, framed, now, &big); {
		case !ok:
			return 0, false
		case !framed:
			return fresh, true
		}
		ttl.PutStamp(v[1:], fresh)
		return c.engineExpiry(fresh), true
	})
	if !c.present(ok, h, &big, now) {
		return false // a Get would miss: there is nothing to touch
	}
	c.touchChunks(h, big, fresh, c.engineExpiry(fresh))
	return true
}
