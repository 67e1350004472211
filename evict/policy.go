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
// entry) and, for LRU-K, in memory the shard provides: a frequency sketch
// of recent reads, and a ghost history (a rotating Bloom filter) of keys
// recently evicted or rejected. Not safe for concurrent use: the shard
// calls it under its lock.
type Policy struct {
	kind   Kind
	k      int
	sketch Sketch
	ghosts *bloom.Rotating
}

// NewFIFO returns the second-chance policy.
func NewFIFO() *Policy { return &Policy{kind: FIFO} }

// LRUKMemory says how much memory an LRU-K policy needs to track about
// entries keys: sketch and history words.
func LRUKMemory(entries int) (sketchWords, historyWords, historyHashes int) {
	entries = max(entries, 64)
	// Two bytes of sketch per entry: each word's 16 counters serve about
	// four keys, one counter per row each.
	sketchWords = max(entries/4, 8)
	// The ghosts remember about a cache's worth of evicted keys (two
	// generations of half as many) at a 5% false positive rate: about one
	// byte per entry.
	historyWords, historyHashes = bloom.Size(entries/2, 0.05)
	return sketchWords, 2 * historyWords, historyHashes
}

// NewLRUK returns the LRU-K policy for a shard expected to hold about
// entries keys, over memory sized by LRUKMemory. k is the number of recent
// reads that earns a key its place in main (at least 1).
func NewLRUK(k, entries int, sketchWords, historyWords []uint64, historyHashes int) (*Policy, error) {
	entries = max(entries, 64)
	ghosts, err := bloom.NewRotatingOver(historyWords, historyHashes, max(entries/2, 1))
	if err != nil {
		return nil, err
	}
	return &Policy{
		kind: LRUK,
		k:    max(k, 1),
		// TinyLFU's sample: halve the counts every ten cache-fulls of reads.
		sketch: NewSketch(sketchWords, 10*entries),
		ghosts: ghosts,
	}, nil
}

// Kind returns the policy's kind.
func (p *Policy) Kind() Kind { return p.kind }

// Read records a read of the key with hash h, hit or miss.
func (p *Policy) Read(h uint64) {
	if p.kind == LRUK {
		p.sketch.Increment(h)
	}
}

// Reads estimates the recent reads of the key with hash h.
func (p *Policy) Reads(h uint64) int {
	if p.kind != LRUK {
		return 0
	}
	return p.sketch.Estimate(h)
}

// Evicted records that the key with hash h left the cache while live.
func (p *Policy) Evicted(h uint64) {
	if p.kind == LRUK {
		p.ghosts.AddHash(h)
	}
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
// main: by its K-th recent read, or by coming back soon after it was
// evicted (a ghost hit: its earlier reads were what got it in before).
func (p *Policy) Eligible(h uint64) bool {
	return p.kind == LRUK && (p.Reads(h) >= p.k || p.ghosts.HasHash(h))
}

// Admit reports whether an eligible candidate should replace main's
// victim: only when it was read more often recently (TinyLFU's rule; a tie
// keeps the incumbent, which makes loops larger than the cache keep a
// stable part of themselves instead of nothing).
func (p *Policy) Admit(candidate, victim uint64) bool { return p.Reads(candidate) > p.Reads(victim) }

// Reset forgets all history.
func (p *Policy) Reset() {
	if p.kind == LRUK {
		p.sketch.Reset()
		p.ghosts.Reset()
	}
}
