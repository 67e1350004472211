package evict

// Sketch is a count-min sketch of 4-bit counters that estimates how often
// each key was seen recently. A key's four counters (one per row) all lie
// in one 64-bit word, so an update or estimate touches one cache line; each
// row owns a quarter of the word and two hash bits pick the key's counter
// in it. Updates are conservative (only the counters at the minimum grow),
// which keeps estimates of rare keys from being inflated by collisions.
// After sampleSize increments every counter is halved, so the sketch
// reflects recent popularity, not all history (TinyLFU's reset).
//
// A Sketch lives in memory its owner provides and is not safe for
// concurrent use: a shard calls it under its lock.
type Sketch struct {
	words      []uint64
	additions  int
	sampleSize int
}

const counterMax = 15

// NewSketch returns a sketch over words (at least one), halving after
// sampleSize increments.
func NewSketch(words []uint64, sampleSize int) Sketch {
	return Sketch{words: words, sampleSize: max(sampleSize, 1)}
}

// word returns the word holding h's counters.
func (s *Sketch) word(h uint64) *uint64 { return &s.words[(h>>32)*uint64(len(s.words))>>32] }

// counterShift returns the bit position of h's counter in row; the low
// bytes of h pick it, the high half picked the word.
func counterShift(h uint64, row int) uint64 {
	return uint64(row*4+int(h>>(8*row)&3)) * 4
}

// Estimate returns the key's recent count, 0 to 15.
func (s *Sketch) Estimate(h uint64) int {
	return minCounter(*s.word(h), h)
}

func minCounter(v, h uint64) int {
	est := counterMax
	for row := range 4 {
		est = min(est, int(v>>counterShift(h, row)&0xf))
	}
	return est
}

// Increment counts one occurrence of the key.
func (s *Sketch) Increment(h uint64) {
	w := s.word(h)
	v := *w
	est := minCounter(v, h)
	if est == counterMax {
		return
	}
	for row := range 4 {
		sh := counterShift(h, row)
		if int(v>>sh&0xf) == est {
			v += 1 << sh
		}
	}
	*w = v
	if s.additions++; s.additions >= s.sampleSize {
		s.age()
	}
}

// age halves every counter.
func (s *Sketch) age() {
	for i, v := range s.words {
		s.words[i] = v >> 1 & 0x7777777777777777
	}
	s.additions /= 2
}

// Reset zeroes every counter.
func (s *Sketch) Reset() {
	clear(s.words)
	s.additions = 0
}
