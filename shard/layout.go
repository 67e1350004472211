package shard

import "github.com/ringcache/ringcache/evict"

// How a shard's memory is divided between index, policy memory and the
// two rings, and how a global offset names a record in either ring.

const (
	// maxRingSize keeps ring offsets plus one within the 32 bits of a slot.
	maxRingSize = 1<<32 - 2
	// A single entry may take at most a quarter of the main ring, so that
	// one large write cannot wipe out the shard.
	maxRecordShare = 4
)

// Ring indexes: new entries wait in probation under LRU-K; main holds the
// rest (and everything under FIFO, where probation is empty).
const (
	probation = 0
	mainRing  = 1
)

// MinSize is the least memory Init accepts for one shard.
const MinSize = 1024

// Layout says how Init divides a shard's memory: the rings at its start,
// and at its end the tail, the memory that scales with the number of
// entries the shard indexes (the policy's sketch and history, and the
// index slots). The boundary between them moves as the shard learns the
// size of its entries (see replan).
type Layout struct {
	Slots, SketchWords, HistoryWords, HistoryHashes int
	TunerWords                                      int
	Probation, Main                                 int // ring bytes
	Entries                                         int // the index's planned entries
}

// perEntry is what an entry of record bytes (header included) costs with
// its share of the tail.
func perEntry(record int, kind evict.Kind) int {
	n := record + slotSize*loadDen/loadNum
	if kind == evict.LRUK {
		n += evict.LRUKBytesPerEntry
	}
	return n
}

// PlanLayout returns how Init divides size bytes for o: a tail for rings
// full of AvgPayload entries at the index's maximum load, and the rest
// for the rings.
func PlanLayout(size int, o Options) Layout {
	l := planTail(size, size/perEntry(HeaderSize+max(o.AvgPayload, 1), o.Policy), o.Policy)
	ring := ringBytes(size, l.tailBytes())
	if o.Policy == evict.LRUK {
		// The tuner moves probation from its starting share; entries
		// larger than half of it go straight to main.
		l.Probation = ring * evict.StartShare / 100
	}
	l.Main = ring - l.Probation
	return l
}

// planTail sizes the tail of a shard of size bytes for entries entries.
func planTail(size, entries int, kind evict.Kind) Layout {
	l := Layout{Entries: entries}
	// Rounded up, so that the index holds the entries planned: rebalance
	// counts on maxLive >= entries to keep probation within its share.
	l.Slots = max((entries*loadDen+loadNum-1)/loadNum, minSlots)
	if kind == evict.LRUK {
		l.SketchWords, l.HistoryWords, l.HistoryHashes = evict.LRUKMemory(entries)
		// The sketch's floor is for shards of some size; in tiny ones it
		// may take an eighth of the memory at most.
		l.SketchWords = min(l.SketchWords, max(size/64, 8))
		// Likewise the tuner's models: a tiny shard gets smaller ones,
		// or none.
		l.TunerWords = min(evict.TunerWords(entries), size/64)
	}
	return l
}

func (l Layout) tailBytes() int {
	return slotSize * (l.Slots + l.SketchWords + l.HistoryWords + l.TunerWords)
}

// ringBytes is what the rings of a shard of size bytes get beside a tail
// of tail bytes.
func ringBytes(size, tail int) int { return int(min(int64(size-tail), maxRingSize)) }

// split is where main's offsets start in the offsets slots store:
// probation's records are at [0, split), main's at split and above.
func (s *Shard) split() int { return s.rings[probation].Size() }

// bytes returns n bytes of the record at global offset g.
func (s *Shard) bytes(g, n int) []byte {
	if g < s.split() {
		return s.rings[probation].Bytes(g, n)
	}
	return s.rings[mainRing].Bytes(g-s.split(), n)
}

func (s *Shard) ringOf(g int) int {
	if g < s.split() {
		return probation
	}
	return mainRing
}

func (s *Shard) base(r int) int {
	if r == probation {
		return 0
	}
	return s.split()
}
