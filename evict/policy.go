package evict

// MetaBits is the mask of header metadata bits a Policy may use. The shard
// owns the bits outside it.
const MetaBits uint8 = 0x7f

// Policy decides the fate of entries when a shard needs room. The shard
// calls Hit on every read hit and Reclaim on the oldest live entry each time
// it must free space; both receive and return the entry's metadata bits
// (only those in MetaBits are kept).
type Policy interface {
	// Hit returns the metadata after a read of the entry.
	Hit(meta uint8) uint8
	// Reclaim reports whether the oldest entry should get another lap in
	// the ring instead of being evicted, and its metadata from then on.
	// A policy must not keep an entry forever: repeated Reclaim calls with
	// no Hit between them must eventually return keep == false.
	Reclaim(meta uint8) (keep bool, next uint8)
}

// SecondChance is FIFO with one extra lap for entries read since they were
// written or last spared (the CLOCK algorithm over a ring).
type SecondChance struct{}

const referenced uint8 = 1

// Hit marks the entry as referenced.
func (SecondChance) Hit(meta uint8) uint8 { return meta | referenced }

// Reclaim spares a referenced entry once and clears its mark.
func (SecondChance) Reclaim(meta uint8) (bool, uint8) {
	return meta&referenced != 0, meta &^ referenced
}
