package shard

import (
	"github.com/ringcache/ringcache/evict"
)

// The reads under the lock: Read, which counts and tells the policy, Peek,
// which does neither, and what they share. Get, the read without the
// lock, is in optimistic.go.

// Read is a counted read: it finds key's live entry and calls fn with its
// value under the shard lock; fn reports whether it served the value (a
// framed value may hold something that is no answer to a plain read, such
// as a tombstone). A served read counts as a hit and tells the policy; a
// missing key or an unserved value counts as a miss. The slice is valid
// only inside fn, and fn must not call back into the shard. Read reports
// whether fn served, and the key's write generation as it stood: a load
// that follows a miss passes it to Fill.
func (s *Shard) Read(h uint64, key []byte, now int64, fn func(value []byte, framed bool) bool) (bool, uint32) {
	s.mu.Lock()
	defer s.unlock()
	if !s.open {
		return false, 0
	}
	s.drainNotes()
	gen := *s.gen(h)
	g, hd, ok := s.lookup(h, key, now)
	if ok {
		b := s.bytes(g, hd.size())
		start := HeaderSize + hd.keyLen
		if ok = fn(b[start:start+hd.valLen], hd.flags&flagFramed != 0); ok {
			setMeta(b, s.policy.Hit(hd.flags))
		}
	}
	switch {
	case !ok:
		s.stats.Misses++
		s.policyRead(h, false)
	case hd.flags&evict.MetaBits == evict.MetaBits:
		// Read three times since the ring last passed it: the entry is
		// as safe as the CLOCK can make it, and more counts in the sketch
		// would only cost a cache line on the hottest path. The tuner
		// skips it too, as when Get serves it without the lock.
		s.stats.Hits++
	default:
		s.stats.Hits++
		s.policyRead(h, true)
	}
	return ok, gen
}

// Peek is Read without counting or telling the policy; fn also gets the
// entry's expiry stamp.
func (s *Shard) Peek(h uint64, key []byte, now int64, fn func(value []byte, framed bool, expiry int64) bool) bool {
	served := false
	s.mu.Lock()
	defer s.unlock()
	s.update(h, key, now, func(v []byte, framed bool, expiry int64) (int64, bool) {
		served = fn(v, framed, expiry)
		return expiry, false
	})
	return served
}

// Reads returns the policy's estimate of the key's recent reads (0 under
// FIFO).
func (s *Shard) Reads(h uint64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.open {
		return 0
	}
	return s.policy.Reads(h)
}

// lookup finds key's entry; one found expired is reclaimed on the spot and
// reported as absent.
func (s *Shard) lookup(h uint64, key []byte, now int64) (int, entryHeader, bool) {
	if !s.open {
		return 0, entryHeader{}, false
	}
	slot, g := s.find(uint32(h), key)
	if slot < 0 {
		return 0, entryHeader{}, false
	}
	hd := readHeader(s.bytes(g, HeaderSize))
	if s.clock.Expired(hd.expiry, now) {
		s.expire(slot, g, hd.size())
		return 0, entryHeader{}, false
	}
	return g, hd, true
}

// expire drops an expired entry found by a read, in a write section of
// its own unless the caller has one open.
func (s *Shard) expire(slot, g, size int) {
	if !s.inWrite() {
		s.beginWrite()
		defer s.endWrite()
	}
	s.removed(g, Expired)
	s.kill(slot, g, size)
	s.stats.Expirations++
}
