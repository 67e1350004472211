package shard

import (
	"fmt"
	"unsafe"

	"github.com/ringcache/ringcache/evict"
)

// Check verifies the shard's invariants and returns the first one broken:
//
//   - each ring's records tile its used bytes exactly, each with a
//     well-formed header no larger than the largest record Set accepts;
//   - every slot points at the start of a live record whose key hashes to
//     the slot's tag, and is reachable from its home slot without crossing
//     an empty slot;
//   - every live record is indexed by exactly one slot, and dead records by
//     none;
//   - the live count and byte count match the records, and the live count
//     stays within the index's load limit;
//   - under LRU-K, K stays between 1 and twice its starting value;
//   - the memory is laid out as planned: the rings take exactly the ring
//     bytes, the tail its planned words at the end of the shard, with the
//     index last, and the limits derived from them are the planned ones;
//   - what Get reads agrees with the locked state: no write section is
//     open, the published index is the index, and a record's global
//     offset is its offset in the shard's memory (probation starts it,
//     main follows at the split).
//
// It takes the shard lock and allocates; it is meant for tests and fuzzers.
func (s *Shard) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inWrite() {
		return fmt.Errorf("shard: a write section is open at rest (sequence %d)", s.seq.Load())
	}
	if !s.open {
		if s.live != 0 || s.slots != nil || s.rings[probation].Size()+s.rings[mainRing].Size() != 0 || s.slotsLen.Load() != 0 {
			return fmt.Errorf("shard: closed shard still holds %d entries or its memory", s.live)
		}
		return nil
	}
	if at, n := s.slotsAt.Load(), s.slotsLen.Load(); n != int64(len(s.slots)) || &s.words[at] != unsafe.SliceData(s.slots) {
		return fmt.Errorf("shard: Get's index (%d slots at word %d) is not the index", n, at)
	}
	if err := s.checkLayout(); err != nil {
		return err
	}
	if err := s.tuner.Check(); err != nil {
		return err
	}
	for r := range s.rings {
		ring := &s.rings[r]
		if ring.Size() > 0 && unsafe.SliceData(ring.Bytes(0, 0)) != &s.mem[s.base(r)] {
			return fmt.Errorf("shard: ring %d does not start at its global offset %d", r, s.base(r))
		}
	}
	live := map[int]int{} // global offset -> size of live records
	liveBytes, probLive := 0, 0
	for r := range s.rings {
		ring, base := &s.rings[r], s.base(r)
		var bad error
		err := ring.Walk(func(off int) int {
			if off+HeaderSize > ring.Size() {
				return -1
			}
			return recordSize(ring.Bytes(off, HeaderSize))
		}, func(off, n int) {
			if n > s.maxRecord && bad == nil {
				bad = fmt.Errorf("shard: record at %d is %d bytes, over the %d-byte limit", base+off, n, s.maxRecord)
			}
			if !isDead(ring.Bytes(off, HeaderSize)) {
				live[base+off] = n
				liveBytes += n
				if r == probation {
					probLive++
				}
			}
		})
		if err != nil {
			return fmt.Errorf("shard: ring %d: %w", r, err)
		}
		if bad != nil {
			return bad
		}
	}
	indexed := 0
	for i, v := range s.slots {
		if v == 0 {
			continue
		}
		indexed++
		g, tag := slotOffset(v), uint32(v>>32)
		n, ok := live[g]
		if !ok {
			return fmt.Errorf("shard: slot %d points at %d, which is not a live record", i, g)
		}
		delete(live, g) // a second slot pointing here will fail the lookup above
		hd := readHeader(s.bytes(g, HeaderSize))
		if hd.size() != n {
			return fmt.Errorf("shard: record at %d changed size during the check", g)
		}
		if got := uint32(s.hasher.Sum(s.bytes(g+HeaderSize, hd.keyLen))); got != tag {
			return fmt.Errorf("shard: slot %d has tag %#x, its key hashes to %#x", i, tag, got)
		}
		for j := s.home(tag); j != i; j = s.next(j) {
			if s.slots[j] == 0 {
				return fmt.Errorf("shard: slot %d is cut off from its home %d by empty slot %d", i, s.home(tag), j)
			}
		}
	}
	switch {
	case len(live) != 0:
		for g := range live {
			return fmt.Errorf("shard: live record at %d has no slot", g)
		}
	case indexed != s.live:
		return fmt.Errorf("shard: %d slots used, live count says %d", indexed, s.live)
	case liveBytes != s.liveBytes:
		return fmt.Errorf("shard: live records take %d bytes, count says %d", liveBytes, s.liveBytes)
	case s.live > s.maxLive:
		return fmt.Errorf("shard: %d live entries over the index limit %d", s.live, s.maxLive)
	case probLive != s.probLive:
		return fmt.Errorf("shard: %d live entries in probation, count says %d", probLive, s.probLive)
	case s.probLive > s.maxProb:
		return fmt.Errorf("shard: %d entries in probation, over its limit %d", s.probLive, s.maxProb)
	}
	return nil
}

// checkLayout verifies that the rings and the tail divide the shard's
// memory as its plan says, and the limits that follow from the plan.
func (s *Shard) checkLayout() error {
	tailStart := len(s.words) - s.tail.tailBytes()/slotSize
	at := s.slotsAt.Load()
	shareLo, shareHi := s.shareBounds()
	switch ring := len(s.ringMem); {
	case s.rings[probation].Size()+s.rings[mainRing].Size() != ring:
		return fmt.Errorf("shard: rings of %d and %d bytes in %d ring bytes", s.rings[probation].Size(), s.rings[mainRing].Size(), ring)
	case ring != ringBytes(len(s.mem), s.tail.tailBytes()):
		return fmt.Errorf("shard: %d ring bytes beside a %d-byte tail in %d", ring, s.tail.tailBytes(), len(s.mem))
	case at != int64(tailStart+s.tail.SketchWords+s.tail.HistoryWords+s.tail.TunerWords) || at+int64(len(s.slots)) != int64(len(s.words)) || len(s.slots) != s.tail.Slots:
		return fmt.Errorf("shard: an index of %d slots at word %d, not the planned %d after %d policy words from %d", len(s.slots), at, s.tail.Slots, s.tail.SketchWords+s.tail.HistoryWords+s.tail.TunerWords, tailStart)
	case s.maxLive != s.tail.Slots*loadNum/loadDen || s.maxLive < s.tail.Entries:
		return fmt.Errorf("shard: %d live entries allowed by %d slots planned for %d entries", s.maxLive, s.tail.Slots, s.tail.Entries)
	case s.maxProb != s.probEntries(s.split()):
		return fmt.Errorf("shard: probation allowed %d entries, its share is %d", s.maxProb, s.probEntries(s.split()))
	case s.policy.Kind() == evict.LRUK && (s.policy.K() < 1 || s.policy.K() > evict.MaxK):
		return fmt.Errorf("shard: K %d outside [1, %d]", s.policy.K(), evict.MaxK)
	case s.policy.Kind() == evict.LRUK && (s.targetProb < shareLo || s.targetProb > shareHi):
		return fmt.Errorf("shard: probation's target of %d bytes outside [%d, %d]", s.targetProb, shareLo, shareHi)
	}
	return nil
}
