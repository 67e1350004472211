package evict

import (
	"fmt"
	"math"

	"github.com/ringcache/ringcache/bloom"
)

// MetaBits is the mask of header metadata bits the policy uses. The shard
// owns the bits outside it.
const MetaBits uint8 = 0x03

// Kind names an eviction policy.
type Kind uint8

const (
	// LRUK admits to the main ring by access history: new entries wait in
	// a probation ring and move to main on their K-th recent read, when
	// main has room, or when they are read more often than main's victim.
	LRUK Kind = iota
	// FIFO keeps one ring in write order and spares entries read since
	// their last pass once (second chance / CLOCK). For comparison.
	FIFO
)

func (k Kind) String() string {
	switch k {
	case LRUK:
		return "LRU-K"
	case FIFO:
		return "FIFO"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Policy decides what a shard keeps. It keeps a few bits in each entry's
// header (a 2-bit CLOCK counter: reads since the ring last passed the
// entry) and, for LRU-K, an access history in memory the shard provides: a
// rotating Bloom filter of keys read recently, whether cached, evicted or
// never stored, and a frequency sketch of the keys read more than once.
// The filter is TinyLFU's doorkeeper: a key's first read in a while only
// enters it, so one-hit wonders never crowd the sketch's counters. Not
// safe for concurrent use: the shard calls it under its lock.
type Policy struct {
	kind    Kind
	k       int
	sketch  Sketch
	history *bloom.Rotating
}

// NewFIFO returns the second-chance policy.
func NewFIFO() *Policy { return &Policy{kind: FIFO} }

// LRUKBytesPerEntry is the memory LRUKMemory asks per expected entry,
// rounded up (4 bytes of sketch and 2.6 of history), for callers that
// divide memory between entries and policy before knowing the count.
const LRUKBytesPerEntry = 7

// LRUKMemory says how much memory an LRU-K policy needs to track about
// entries keys: sketch and history words.
func LRUKMemory(entries int) (sketchWords, historyWords, historyHashes int) {
	entries = max(entries, 64)
	// Four bytes of sketch per entry: each word's 16 counters serve about
	// two keys that got past the history, the width where a wider sketch
	// stops paying for its memory (docs/admission.md). A shard sees several
	// times more distinct keys than it holds, and a sketch needs some
	// width to tell them apart at all, hence a floor of 2 KiB per shard
	// (the default 256 KiB shards are above it anyway).
	sketchWords = max(entries/2, 256)
	// The history remembers the last two to four cache-fulls of keys read
	// (two generations of twice the entries) at a 10% false positive rate:
	// about 2.6 bytes per entry.
	historyWords, historyHashes = bloom.Size(historyPerGeneration(entries), 0.1)
	return sketchWords, 2 * historyWords, historyHashes
}

// NewLRUK returns the LRU-K policy for a shard expected to hold about
// entries keys, over memory sized by LRUKMemory. k is the number of recent
// reads that earns a key its place in main (at least 1).
func NewLRUK(k, entries int, sketchWords, historyWords []uint64, historyHashes int) (*Policy, error) {
	entries = max(entries, 64)
	history, err := bloom.NewRotatingOver(historyWords, historyHashes, historyPerGeneration(entries))
	if err != nil {
		return nil, err
	}
	return &Policy{
		kind: LRUK,
		k:    max(k, 1),
		// TinyLFU's sample: halve the counts every ten cache-fulls of reads.
		sketch:  NewSketch(sketchWords, 10*entries),
		history: history,
	}, nil
}

func historyPerGeneration(entries int) int { return 2 * max(entries, 64) }

// mix spreads a key hash over all 64 bits again. A shard sees only keys
// whose hashes share their top bits (they picked the shard) and whose low
// bits cluster by index slot; the sketch and the ghost filter index by
// both halves, so unmixed they would use a fraction of their memory.
func mix(h uint64) uint64 {
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	return h ^ h>>32
}

// Kind returns the policy's kind.
func (p *Policy) Kind() Kind { return p.kind }

// Read records a read of the key with hash h, a hit or a miss. A missed
// key's first read in a while enters the history only; later reads, and
// every read of a cached key (it has been read or written before), count
// in the sketch. Skipping the history on hits saves a cache line on the
// hottest path.
func (p *Policy) Read(h uint64, hit bool) {
	if p.kind != LRUK {
		return
	}
	if m := mix(h); hit || p.history.HasHash(m) {
		p.sketch.Increment(m)
	} else {
		p.history.AddHash(m)
	}
}

// Reads estimates the recent reads of the key with hash h.
func (p *Policy) Reads(h uint64) int {
	if p.kind != LRUK {
		return 0
	}
	m := mix(h)
	n := p.sketch.Estimate(m)
	if p.history.HasHash(m) {
		n++
	}
	return n
}

// Hit returns an entry's metadata after a read of it.
func (p *Policy) Hit(meta uint8) uint8 {
	if c := meta & MetaBits; c < MetaBits && p.kind == LRUK {
		return meta&^MetaBits | (c + 1)
	}
	return meta | 1
}

// Spare reports whether the oldest entry of the main ring gets another lap
// instead of eviction, and its metadata from then on: an entry read since
// the ring last passed it is spared, and its count goes down by one.
func (p *Policy) Spare(meta uint8) (bool, uint8) {
	c := meta & MetaBits
	if c == 0 {
		return false, meta
	}
	if p.kind == FIFO {
		c = 1
	}
	return true, meta&^MetaBits | (c - 1)
}

// Eligible reports whether a probation candidate with hash h has earned
// main by its K-th recent read. The history outlives the entries, so reads
// before an eviction still count when the key comes back.
func (p *Policy) Eligible(h uint64) bool { return p.kind == LRUK && p.Reads(h) >= p.k }

// Admit reports whether an eligible candidate should replace main's
// victim: only when it was read more often recently (TinyLFU's rule; a tie
// keeps the incumbent, which makes loops larger than the cache keep a
// stable part of themselves instead of nothing).
func (p *Policy) Admit(candidate, victim uint64) bool { return p.Reads(candidate) > p.Reads(victim) }

// Reset forgets all history.
func (p *Policy) Reset() {
	if p.kind == LRUK {
		p.sketch.Reset()
		p.history.Reset()
	}
}

// WindowClimber adapts the probation ring's size by hill climbing on the
// hit ratio, as Caffeine adapts its window: every period of reads it
// compares the period's hit ratio with the last one's and moves the size
// by a step, the same way if the ratio rose, the other way if it fell.
// Steps start at a sixteenth of the size and shrink by 2% a period, so the
// size settles instead of oscillating; a change in hit ratio of 5 points
// or more (the workload changed) restarts them at full length. Recency-
// heavy workloads push probation up (new entries get longer to prove
// themselves), frequency-heavy ones push it down.
type WindowClimber struct {
	period, reads, hits int
	last                float64
	full                float64 // the first and restarted step, in bytes
	step                float64 // the next step in bytes; its sign is the direction
}

const (
	climbFirstStep = 1.0 / 16
	climbDecay     = 0.98
	climbRestart   = 0.05
)

// NewWindowClimber returns a climber over size bytes that decides once
// per period reads, starting by growing the window.
func NewWindowClimber(period, size int) WindowClimber {
	full := climbFirstStep * float64(size)
	return WindowClimber{period: max(period, 1), full: full, step: full}
}

// Sample records a read and returns how many bytes to add to probation's
// size (negative: to take away), or 0 when the period has not ended.
func (w *WindowClimber) Sample(hit bool) int {
	w.reads++
	if hit {
		w.hits++
	}
	if w.reads < w.period {
		return 0
	}
	ratio := float64(w.hits) / float64(w.reads)
	change := ratio - w.last
	w.last = ratio
	w.reads, w.hits = 0, 0
	if change == 0 {
		return 0 // nothing to learn: stay, rather than drift to an end
	}
	amount := w.step
	if change < 0 {
		amount = -amount
	}
	w.step = climbDecay * amount
	if math.Abs(change) >= climbRestart {
		w.step = math.Copysign(w.full, amount)
	}
	return int(amount)
}
