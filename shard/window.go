package shard

import "github.com/ringcache/ringcache/evict"

// The window: how the boundary between probation and main moves toward
// the tuner's target, in whatever state the two rings are.

const (
	// Under LRU-K probation's size moves toward the tuner's target in
	// steps of 1/resizeSteps of the ring bytes.
	resizeSteps = 64
	// Probation's size stays between these shares of the ring bytes,
	// and at least probFloorRecords average records.
	minProbPercent, maxProbPercent = 1, 50
	probFloorRecords               = 3
)

// probBounds returns the least and the most bytes probation may have.
// The least holds a few of the shard's average records: a write larger
// than half of probation goes straight to main, past admission, so a
// probation that shrank under two records (1% of a shard of a hundred
// entries is one) let every write into main, and the shard became a
// CLOCK without admission (docs/admission.md).
func (s *Shard) probBounds() (lo, hi int) {
	lo, hi = s.shareBounds()
	if s.live > 0 {
		lo = max(lo, probFloorRecords*s.liveBytes/s.live)
	}
	return min(lo, hi), hi
}

// shareBounds returns the least and the most bytes probation may have by
// its share of the ring bytes alone, which the tuner's target always
// lies between.
func (s *Shard) shareBounds() (lo, hi int) {
	n := int64(len(s.ringMem))
	return int(n * minProbPercent / 100), int(n * maxProbPercent / 100)
}

// sizeProbation sets probation's entry limit in proportion to its bytes.
func (s *Shard) sizeProbation() { s.maxProb = s.probEntries(s.split()) }

// probEntries is probation's share of the index when it has size bytes.
func (s *Shard) probEntries(size int) int {
	return max(s.maxLive*size/max(len(s.ringMem), 1), 1)
}

// resize moves the boundary between probation and main one step toward
// the tuner's target, if the rings are in states that allow it.
//
// Probation grows into main's start. When main is not wrapped its oldest
// entries lie there: those in the way are reclaimed as eviction would
// (the CLOCK spares hot ones; if that wraps main, growth waits). When it
// is wrapped, the entries there are the oldest of its wrapped part, and
// probation adopts them in place (Caffeine, growing its window, likewise
// moves main's oldest entries into it): they face admission again when
// probation settles them, and hot ones come back.
//
// Probation shrinks at its end, and main takes the bytes at its start
// (behind a dead filler record when main is wrapped), or, when both are
// wrapped, the oldest records in them too (handOverEnd).
func (s *Shard) resize(now int64) {
	cur := s.split()
	m, p := &s.rings[mainRing], &s.rings[probation]
	switch {
	case s.targetProb > cur:
		step := min(s.targetProb-cur, s.resizeStep)
		if !m.CanGrowStart() && m.Tail() != 0 {
			if !s.adoptMainStart(step) {
				return
			}
			break
		}
		// Main is unwrapped, or wrapped with its tail at zero (full to its
		// end, as an exactly filled ring or a replan leaves it): its
		// oldest records lie at its start.
		for m.CanGrowStart() || m.Tail() == 0 {
			off, ok := m.Head()
			if !ok || off >= step {
				break
			}
			s.evictMainHead(now)
		}
		if m.ShrinkStart(step) {
			p.GrowEnd(step)
		}
	case s.targetProb < cur:
		// A filler needs a header's room; the target need not be exact.
		step := min(cur-s.targetProb, s.resizeStep)
		if step < HeaderSize {
			return
		}
		// freed: probation gave up the bytes empty, and main takes them
		// as free space (or, wrapped, behind a filler).
		freed := p.ShrinkEnd(step)
		if !freed && !s.handOverEnd(step) {
			// Records lie in the bytes to give up and main cannot take
			// them. In a wrapped probation they are its oldest: once the
			// head reaches into those bytes (only records in the way
			// remain before the end), settle them, as a smaller window
			// would have. Settling more would empty the window each time
			// it shrinks (OLTP lost 1 to 2 points that way), so wait for
			// that, but no longer than a probation's worth of writes.
			// While the newest records sit there, wait.
			off, ok := p.Head()
			if !ok || p.CanGrowStart() {
				return
			}
			headEnd := off + recordSize(p.Bytes(off, HeaderSize))
			if s.shrinkWaits++; headEnd <= cur-step && s.shrinkWaits <= s.maxProb {
				return
			}
			for !p.CanGrowStart() {
				s.reclaimHead(probation, now)
			}
			if freed = p.ShrinkEnd(step); !freed {
				return
			}
		}
		if freed && m.GrowStart(s.ringMem[cur-step:], step) {
			s.writeFillers(s.ringMem[cur-step : cur])
		}
		s.shrinkWaits = 0
	default:
		return
	}
	s.sizeProbation()
	// A shrunk probation may hold more entries than its new share: settle
	// the oldest, as a smaller window would have.
	for s.probLive > s.maxProb {
		s.reclaimHead(probation, now)
	}
}

// adoptMainStart moves the boundary at least step bytes into a wrapped
// main, whose records there join probation in place, right after the
// records before its end: as its newest, or, when probation is wrapped
// too (a full shard's usual state), before the records its tail has
// wrapped to the start. It reports false, changing nothing, when main's
// wrapped part is shorter than step, when the entries there would
// overfill probation's share of the index, or when the few bytes after
// probation's last record can go neither to a filler nor to that
// record's slack.
func (s *Shard) adoptMainStart(step int) bool {
	m, p := &s.rings[mainRing], &s.rings[probation]
	// Adopt no more entries than probation's share of the index allows at
	// its new size, give or take one (a share rounds down, and records a
	// little smaller than the average add a little less than an entry to
	// it): settling the excess at once would empty the window where the
	// index, not the bytes, bounds the shard.
	n, adopted := 0, 0
	for n < step && n < m.Tail() {
		hd := readHeader(m.Bytes(n, HeaderSize))
		live := 0
		if hd.flags&flagDead == 0 {
			live = 1
		}
		if s.probLive+adopted+live > s.probEntries(s.split()+n+hd.size())+1 {
			break
		}
		adopted += live
		n += hd.size()
	}
	if n < step {
		return false
	}
	// The bytes between probation's last record and its end join it: a
	// filler covers them, or, too few for one, the last record's slack.
	at, gap := p.EndGap()
	last := -1
	if gap > 0 && gap < HeaderSize {
		if last = s.probationRecordEndingAt(at); last < 0 || !s.canAddSlack(last, gap) {
			return false
		}
	}
	m.DropStart(n)
	p.AdoptEnd(n)
	if last >= 0 {
		s.addSlack(last, gap)
	} else {
		s.writeFillers(s.ringMem[at : at+gap])
	}
	s.probLive += adopted
	return true
}

// probationRecordEndingAt returns the offset of probation's record that
// ends at end, the offset EndGap reported, or -1 if none does: the walk
// from the head to the end of its run.
func (s *Shard) probationRecordEndingAt(end int) int {
	p := &s.rings[probation]
	off, ok := p.Head()
	for ok && off < end {
		n := recordSize(p.Bytes(off, HeaderSize))
		if off+n == end {
			return off
		}
		off += n
	}
	return -1
}

// canAddSlack reports whether the probation record at g can take n more
// bytes of slack: its header counts at most maxSlack, and no record may
// be larger than one Set accepts.
func (s *Shard) canAddSlack(g, n int) bool {
	hd := readHeader(s.ringMem[g : g+HeaderSize])
	return hd.slack+n <= maxSlack && hd.size()+n <= s.maxRecord
}

// addSlack lengthens the probation record at g by n bytes of slack, which
// covers bytes too few for a filler after it.
func (s *Shard) addSlack(g, n int) {
	b := s.ringMem[g : g+HeaderSize]
	hd := readHeader(b)
	hd.slack += n
	writeHeader(b, hd)
	if hd.flags&flagDead == 0 {
		s.liveBytes += n
	}
}

// handOverEnd shrinks a wrapped probation by at least step bytes while
// main is wrapped too, handing main the records in the bytes it gives up,
// in place: probation's oldest, where main's head reaches them right after
// its current lap, so they face its CLOCK soon, read ones are spared and
// the rest go. Caffeine likewise moves its window's oldest entries into
// main's probation segment when the window shrinks. Settling them instead
// would reject most at once, and main could use their bytes only after
// its next lap (behind a filler), leaving the shard short of entries
// (TestProbationShrinkKeepsTheShardFull). handOverEnd reports false,
// changing nothing, when the rings are not both wrapped, when the records
// to hand over would take probation under its floor, or when the padding
// at probation's end cannot be covered.
func (s *Shard) handOverEnd(step int) bool {
	m, p := &s.rings[mainRing], &s.rings[probation]
	head, ok := p.Head()
	if !ok || p.CanGrowStart() || m.CanGrowStart() {
		return false
	}
	cur, padAt := s.split(), p.Size()-p.Padding()
	// The records from x on reach into the last step bytes.
	x := head
	for x < padAt {
		n := recordSize(p.Bytes(x, HeaderSize))
		if x+n > cur-step {
			break
		}
		x += n
	}
	if lo, _ := s.probBounds(); x == padAt || x < lo {
		// Only padding lies there (ShrinkEnd failed on the rest), or the
		// records reaching into the bytes would take probation under its
		// floor.
		return false
	}
	live, last := 0, x
	for off := x; off < padAt; {
		hd := readHeader(p.Bytes(off, HeaderSize))
		if hd.flags&flagDead == 0 {
			live++
		}
		last, off = off, off+hd.size()
	}
	// Padding too short for a filler goes to the last record as slack.
	pad := cur - padAt
	fold := pad > 0 && pad < HeaderSize
	if fold && !s.canAddSlack(last, pad) {
		return false
	}
	if !p.DropEnd(cur - x) {
		return false
	}
	m.GrowStart(s.ringMem[x:], cur-x)
	switch {
	case fold:
		s.addSlack(last, pad)
	case pad > 0:
		s.writeFillers(s.ringMem[padAt:cur])
	}
	s.probLive -= live
	s.stats.Promotions += uint64(live)
	return true
}

// writeFillers covers b, which a ring counts as used, with dead records
// no larger than any record Set accepts. b is empty or at least a header
// long.
func (s *Shard) writeFillers(b []byte) {
	for len(b) > 0 {
		n := min(len(b), s.maxRecord)
		if rest := len(b) - n; rest > 0 && rest < HeaderSize {
			n -= HeaderSize - rest
		}
		writeHeader(b[:HeaderSize], entryHeader{valLen: n - HeaderSize, flags: flagDead})
		b = b[n:]
	}
}

// policyRead tells the policy of a read of the key with hash h, a hit or
// a miss, after the tuner's models, which must see it before the policy
// counts it; when the tuner makes a choice it applies it: K for the
// policy, and probation's target share of the ring bytes.
func (s *Shard) policyRead(h uint64, hit bool) {
	if s.policy.Kind() == evict.LRUK && s.tuner.Sample(h, s.policy) {
		s.policy.SetK(s.tuner.K())
		lo, hi := s.probBounds()
		s.targetProb = min(max(len(s.ringMem)*s.tuner.Share()/100, lo), hi)
	}
	s.policy.Read(h, hit)
}
