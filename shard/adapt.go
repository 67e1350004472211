package shard

import (
	"github.com/ringcache/ringcache/evict"
)

// How the boundary between the rings and the tail (policy memory and
// index) follows the entries a shard actually stores. Options.AvgPayload
// only sets where it starts: when the index is full while the rings have
// room, or the rings are full while most slots sit empty, the shard plans
// its tail again for the average record it holds, and moves the boundary
// in one step under its lock.
//
// The tail grows into the end of main: the bytes must hold no record, so
// growth waits until main's tail has moved past them (main then wraps and
// its head frees them, as eviction does anyway). It shrinks by handing
// main those bytes at its end. Either way the index is rebuilt from the
// records (a walk of both rings, rehashing each key) and the policy
// starts a fresh history over its new memory; the entries and their
// CLOCK bits stay.

const (
	// The thresholds of plannedEntries. The gap between its two
	// triggers is the hysteresis: a balanced shard meets neither.
	// Padding and dead records take some of the ring bytes, so "full"
	// leaves 1/fullShare.
	roomShare   = 8
	fullShare   = 4
	replanShare = 8
)

// unbalanced reports whether rebalance may replan: the index is full,
// or the rings are nearly full while under half the index is used. store
// asks it inline, so that a balanced shard's writes make no call.
func (s *Shard) unbalanced() bool {
	return s.live >= s.maxLive || (s.live < s.maxLive/2 && s.liveBytes > len(s.ringMem)-len(s.ringMem)/fullShare)
}

// rebalance replans the tail when the shard is out of balance; store
// calls it before making room for a new record. It reports whether it
// replanned.
func (s *Shard) rebalance() bool {
	want, ok := s.plannedEntries()
	return ok && s.replan(planTail(len(s.mem), want, s.opts.Policy))
}

// plannedEntries returns the entries a new tail should index, and false
// when the shard should keep its tail: it grows the index when it is full
// while at least 1/roomShare of the ring bytes hold no live record, and
// shrinks it when the rings are nearly full (under 1/fullShare without a
// live record) while under half the index is used; and only by at least
// 1/replanShare of the entries. A shrunk index still holds twice the live
// entries, and probation's share of it, in proportion to its bytes, still
// holds probation's live entries when the rings take the whole shard.
func (s *Shard) plannedEntries() (int, bool) {
	ring := len(s.ringMem)
	free := ring - s.liveBytes
	grow := s.live >= s.maxLive && free >= ring/roomShare
	if !grow && (free >= ring/fullShare || s.live >= s.maxLive/2 || s.live == 0) {
		return 0, false // balanced: the common case, without a division
	}
	want := len(s.mem) / perEntry(s.liveBytes/s.live, s.opts.Policy)
	if grow {
		return want, want >= s.tail.Entries+s.tail.Entries/replanShare
	}
	want = max(want, s.live*2, s.probLive*len(s.mem)/max(s.split(), 1)+1)
	return want, want <= s.tail.Entries-s.tail.Entries/replanShare
}

// replan moves the boundary to give the tail l's bytes, rebuilds the
// index and starts the policy over. It reports false, changing nothing,
// when main's end holds records in the bytes the tail needs, or when the
// rings would shrink below minRing.
func (s *Shard) replan(l Layout) bool {
	m := &s.rings[mainRing]
	cur := len(s.ringMem)
	next := ringBytes(len(s.mem), l.tailBytes())
	switch {
	case next < s.minRing || next-s.split() < s.maxRecord:
		return false
	case next < cur:
		if !m.ShrinkEnd(cur - next) {
			return false
		}
	case next > cur:
		m.GrowEnd(next - cur)
	}
	s.ringMem = s.mem[:next]
	clear(s.words[len(s.words)-l.tailBytes()/slotSize:])
	if err := s.bindTail(l); err != nil {
		panic("shard: a tail planned by planTail was refused: " + err.Error())
	}
	if s.opts.Policy == evict.LRUK {
		lo, hi := s.probBounds()
		s.targetProb = min(max(s.targetProb, lo), hi)
	}
	s.reindex()
	s.stats.Replans++
	return true
}

// bindTail lays the tail l out at the end of the shard's memory, which
// must be zeroed: a policy over fresh sketch and history, and an empty
// index of l.Slots; it sets everything sized by the index or the ring
// bytes. Init binds over memory as mapped, untouched: a new cache commits
// no page of its index or policy before it uses it.
func (s *Shard) bindTail(l Layout) error {
	words := s.words[len(s.words)-l.tailBytes()/slotSize:]
	take := func(n int) []uint64 {
		w := words[:n:n]
		words = words[n:]
		return w
	}
	policy := evict.NewFIFO()
	if s.opts.Policy == evict.LRUK {
		var err error
		sketch, history := take(l.SketchWords), take(l.HistoryWords)
		if policy, err = evict.NewLRUK(s.opts.K, l.Entries, sketch, history, l.HistoryHashes); err != nil {
			return err
		}
	}
	tuner := take(l.TunerWords)
	s.policy = policy
	at := len(s.words) - len(words) // the index is what remains
	s.slots = take(l.Slots)
	s.slotsAt.Store(int64(at))
	s.slotsLen.Store(int64(l.Slots))
	s.tail = l
	s.maxLive = l.Slots * loadNum / loadDen
	total := len(s.ringMem)
	s.resizeStep = max(total/resizeSteps, 1)
	s.tuner = evict.NewTuner(tuner, l.Entries, s.opts.K, s.opts.TunePeriod)
	s.sizeProbation()
	return nil
}

// reindex fills the empty index from the live records of both rings.
func (s *Shard) reindex() {
	for r := range s.rings {
		ring, base := &s.rings[r], s.base(r)
		// The rings tile their used bytes (an invariant Check verifies),
		// so the walk cannot fail.
		_ = ring.Walk(func(off int) int { return recordSize(ring.Bytes(off, HeaderSize)) }, func(off, _ int) {
			b := ring.Bytes(off, HeaderSize)
			if !isDead(b) {
				s.insert(uint32(s.hasher.Sum(ring.Bytes(off+HeaderSize, keyLenOf(b)))), base+off)
			}
		})
	}
}
