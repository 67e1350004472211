package ringcache

import (
	"time"

	"github.com/ringcache/ringcache/ttl"
)

// Conditional writes decide and store in one step under the key's shard
// lock: of concurrent writes of a key, each sees the entry the one before
// it left. They take values up to what one shard stores (MaxEntrySize
// when the cache stores nothing in chunks); larger ones are
// ErrEntryTooLarge.

// SetIfAbsent stores value under key, expiring after ttl (0 = never), only
// if a Get of key would miss, and reports whether it stored. A tombstone
// of the loading layer or a value kept only for stale-if-error does not
// count as present; a value in chunks does (its chunks are not checked).
// Errors are SetWithTTL's; a failed or refused write changes nothing.
func (c *engine) SetIfAbsent(key, value []byte, ttl time.Duration) (bool, error) {
	now := c.clock.Now()
	return c.setIf(key, value, ttl, now, frame{}, func(old []byte, framed, present bool) bool {
		return !present || c.found(old, framed, now).state != stateLive
	})
}

// SetIfNewer stores value under key with version, expiring after ttl (0 =
// never), unless key's live entry carries a version at least as new, and
// reports whether it stored: for a cache fed by a stream of changes that
// may arrive out of order, where an older change must not undo a newer
// one. An entry written without a version (by Set, or loaded) is older
// than any version. Version reads the version back; Get and the other
// reads see the value as they see any. The value is stored uncompressed.
// Errors are SetWithTTL's; a failed or refused write changes nothing.
func (c *engine) SetIfNewer(key, value []byte, version uint64, ttl time.Duration) (bool, error) {
	now := c.clock.Now()
	f := frame{kind: kindValue, versioned: true, version: version, born: now}
	return c.setIf(key, value, ttl, now, f, func(old []byte, framed, present bool) bool {
		e := c.found(old, framed, now)
		return !present || e.state != stateLive || !e.f.versioned || e.f.version < version
	})
}

// Version returns the version SetIfNewer stored with key's live value, and
// false when key has no live value or one written without a version.
func (c *engine) Version(key []byte) (uint64, bool) {
	h := c.hasher.Sum(key)
	now := c.clock.Now()
	var version uint64
	ok := c.shardFor(h).Peek(h, key, now, func(v []byte, framed bool, _ int64) bool {
		e := c.found(v, framed, now)
		version = e.f.version
		return e.state == stateLive && e.f.versioned
	})
	return version, ok
}

// setIf is the write of SetIfAbsent (f the zero frame: the value as Set
// stores it) and SetIfNewer (f a versioned frame).
func (c *engine) setIf(key, value []byte, d time.Duration, now int64, f frame, cond func(old []byte, framed, present bool) bool) (bool, error) {
	switch {
	case d < 0:
		return false, ErrInvalidTTL
	case len(key) > c.maxKey:
		return false, ErrKeyTooLarge
	case len(key)+f.size()+len(value) > c.maxEntry:
		return false, ErrEntryTooLarge
	}
	h := c.hasher.Sum(key)
	s := c.shardFor(h)
	expiry := ttl.Stamp(now, c.jittered(d))
	bp := c.borrow()
	defer c.giveBack(bp)
	stored, framed := value, false
	switch {
	case f.versioned:
		f.fresh = expiry
		b := append((*bp)[:0], make([]byte, f.size())...)
		putFrame(b, f)
		stored, framed = append(b, value...), true
		*bp = stored
	case c.codecs.wants(len(value)):
		b, saved := c.codecs.frame((*bp)[:0], value, frame{kind: kindValue, fresh: expiry, born: now})
		*bp = b
		if saved > frameSize {
			stored, framed = b, true
		}
	}
	return s.SetIf(h, key, stored, now, expiry, framed, cond)
}
