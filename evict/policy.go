package evict

import (
	"fmt"

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

// mix spreads a key's 32-bit hash over 64 bits. The sketch and the
// history index by both halves, and a shard's keys differ only in the
// low bits of their hashes (the top bits picked the shard), so unmixed
// they would use a fraction of their memory.
func mix(key uint32) uint64 {
	h := uint64(key)
	h ^= h >> 29
	h *= 0xBF58476D1CE4E5B9
	return h ^ h>>32
}

// Kind returns the policy's kind.
func (p *Policy) Kind() Kind { return p.kind }

// Read records a read of the key with hash h, a hit or a miss. The policy
// knows a key by the low 32 bits of its hash, in which a shard's keys
// differ (the top bits picked the shard), so that a Tuner's models can
// keep a key in four bytes and still read its history. A missed
// key's first read in a while enters the history only; later reads, and
// every read of a cached key (it has been read or written before), count
// in the sketch. Skipping the history on hits saves a cache line on the
// hottest path.
func (p *Policy) Read(h uint64, hit bool) {
	if p.kind != LRUK {
		return
	}
	if m := mix(uint32(h)); hit || p.history.HasHash(m) {
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
	m := mix(uint32(h))
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

// Promoted returns a probation entry's metadata as it enters main: the
// reads that earned it main do not also buy it laps there, so its CLOCK
// count starts at zero and only reads in main protect it, as a W-TinyLFU
// admits to main's probation segment and protects on a hit there.
func (p *Policy) Promoted(meta uint8) uint8 { return meta &^ MetaBits }

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

// K returns the recent reads a probation candidate needs now to earn main
// when main is full (0 under FIFO).
func (p *Policy) K() int { return p.k }

// SetK sets the reads Eligible asks for, at least 1; a Tuner decides
// them. FIFO ignores it.
func (p *Policy) SetK(k int) {
	if p.kind == LRUK {
		p.k = max(k, 1)
	}
}

// Reset forgets all history.
func (p *Policy) Reset() {
	if p.kind == LRUK {
		p.sketch.Reset()
		p.history.Reset()
	}
}
