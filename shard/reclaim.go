package shard

import "github.com/ringcache/ringcache/ttl"

// Reclaiming ring heads: making room for a write by dropping dead and
// expired records, settling probation's oldest entry, and evicting or
// sparing main's.

// alloc takes size bytes at the tail of ring r, reclaiming its oldest
// entries until they fit, and returns the global offset.
func (s *Shard) alloc(r, size int, now int64) int {
	for {
		if off, ok := s.rings[r].Alloc(size); ok {
			return s.base(r) + off
		}
		s.reclaimHead(r, now)
	}
}

// reclaimHead deals with the entry at the head of ring r: dead and expired
// entries go; a probation entry is promoted or rejected (settle); a main
// entry goes unless the policy spares it for another lap.
func (s *Shard) reclaimHead(r int, now int64) {
	if r == mainRing {
		s.evictMainHead(now)
		return
	}
	ring := &s.rings[probation]
	off, _ := ring.Head()
	hd := readHeader(ring.Bytes(off, HeaderSize))
	size := hd.size()
	if hd.flags&flagDead != 0 {
		ring.Reclaim(size)
		return
	}
	h := s.hasher.Sum(ring.Bytes(off+HeaderSize, hd.keyLen))
	if ttl.Expired(hd.expiry, now) {
		s.stats.Expirations++
		s.drop(probation, s.slotAt(uint32(h), off), size, Expired)
		return
	}
	s.settle(off, h, size, now)
}

// evictMainHead deals with the entry at main's head as reclaimHead says:
// dead and expired records go, the policy may spare a read entry for
// another lap, and a live entry it does not spare is evicted.
func (s *Shard) evictMainHead(now int64) {
	if slot, size, _, ok := s.mainVictim(now); ok {
		s.stats.Evictions++
		s.drop(mainRing, slot, size, Evicted)
	}
}

// challengeMainHead is evictMainHead for a probation candidate with hash
// challenger: the live entry at main's head is evicted only if the policy
// admits the challenger over it. Otherwise it stays, and
// challengeMainHead reports the refusal.
func (s *Shard) challengeMainHead(now int64, challenger uint64) (refused bool) {
	slot, size, h, ok := s.mainVictim(now)
	switch {
	case !ok:
		return false
	case !s.policy.Admit(challenger, h):
		return true
	}
	s.stats.Evictions++
	s.drop(mainRing, slot, size, Evicted)
	return false
}

// mainVictim clears main's head of what needs no decision: a dead record
// is reclaimed, an expired entry dropped, an entry the policy spares moved
// to the tail. It reports, with ok, a live entry left at the head to be
// evicted or not: its slot, size and hash.
func (s *Shard) mainVictim(now int64) (slot, size int, h uint64, ok bool) {
	ring := &s.rings[mainRing]
	off, _ := ring.Head()
	g := s.split() + off
	hd := readHeader(ring.Bytes(off, HeaderSize))
	size = hd.size()
	if hd.flags&flagDead != 0 {
		ring.Reclaim(size)
		return 0, 0, 0, false
	}
	h = s.hasher.Sum(ring.Bytes(off+HeaderSize, hd.keyLen))
	slot = s.slotAt(uint32(h), g)
	switch keep, meta := s.policy.Spare(hd.flags); {
	case ttl.Expired(hd.expiry, now):
		s.stats.Expirations++
		s.drop(mainRing, slot, size, Expired)
		return 0, 0, 0, false
	case keep:
		setMeta(ring.Bytes(off, HeaderSize), meta)
		s.slots[slot] = slotValue(uint32(h), s.split()+ring.Recycle(size))
		return 0, 0, 0, false
	}
	return slot, size, h, true
}

// settle decides the fate of the probation head, at offset g: it moves to
// main while main has room; otherwise it needs its K-th recent read and
// more recent reads than main's victim, or it is rejected.
func (s *Shard) settle(g int, h uint64, size int, now int64) {
	m := &s.rings[mainRing]
	room := func() bool { return s.live < s.maxLive && m.Fits(size) }
	if !room() && !s.policy.Eligible(h) {
		s.reject(g, h, size)
		return
	}
	for !room() {
		if _, ok := m.Head(); !ok {
			break // main is empty: the index is full of probation entries
		}
		if s.challengeMainHead(now, h) {
			s.reject(g, h, size)
			return
		}
	}
	off := s.alloc(mainRing, size, now)
	copy(s.bytes(off, size), s.rings[probation].Bytes(g, size))
	hd := s.bytes(off, HeaderSize)
	setMeta(hd, s.policy.Promoted(hd[offFlags]))
	s.rings[probation].Reclaim(size)
	s.probLive--
	s.slots[s.slotAt(uint32(h), g)] = slotValue(uint32(h), off)
	s.stats.Promotions++
}

func (s *Shard) reject(g int, h uint64, size int) {
	s.stats.Rejections++
	s.stats.Evictions++
	s.drop(probation, s.slotAt(uint32(h), g), size, Evicted)
}

// drop removes the live entry at the head of ring r, whose slot is given,
// for cause.
func (s *Shard) drop(r, slot, size int, cause Cause) {
	if s.opts.OnRemove != nil {
		off, _ := s.rings[r].Head()
		s.removed(s.base(r)+off, cause)
	}
	s.removeSlot(slot)
	s.rings[r].Reclaim(size)
	s.forget(r, size)
}

// kill marks the entry at global offset g dead and drops its slot; its
// ring reclaims the bytes when the head reaches it.
func (s *Shard) kill(slot, g, size int) {
	markDead(s.bytes(g, HeaderSize))
	s.removeSlot(slot)
	s.forget(s.ringOf(g), size)
}

// forget takes a live entry of ring r out of the counts.
func (s *Shard) forget(r, size int) {
	s.live--
	s.liveBytes -= size
	if r == probation {
		s.probLive--
	}
}
