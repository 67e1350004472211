package bloom

import (
	"fmt"
	"sync/atomic"
)

// Rotating answers "seen recently" with two generations of Filter. Adds go
// to the current generation; lookups check both. After the current one has
// taken its share of adds, the older generation is cleared and becomes
// current, so a key is remembered for between one and two generations of
// adds. It is safe for concurrent use; a lookup racing a rotation may miss
// a key from the generation being cleared.
type Rotating struct {
	gens    [2]*Filter
	current atomic.Uint32
	adds    atomic.Int64
	perGen  int64
}

// NewRotating returns a rotating filter that remembers at least the last
// perGeneration keys added, each generation sized for that many at rate p.
func NewRotating(perGeneration int, p float64) (*Rotating, error) {
	a, err := New(perGeneration, p)
	if err != nil {
		return nil, err
	}
	b, _ := New(perGeneration, p)
	return &Rotating{gens: [2]*Filter{a, b}, perGen: int64(perGeneration)}, nil
}

// NewRotatingOver builds a rotating filter over caller-provided memory:
// words is split in two generations (its length must be a positive multiple
// of 16), each rotating after perGeneration adds.
func NewRotatingOver(words []uint64, hashes, perGeneration int) (*Rotating, error) {
	if len(words)%(2*wordsPerBlock) != 0 || perGeneration <= 0 {
		return nil, fmt.Errorf("%w: %d words, %d keys per generation", ErrInvalidSize, len(words), perGeneration)
	}
	half := len(words) / 2
	a, err := NewOver(words[:half:half], hashes)
	if err != nil {
		return nil, err
	}
	b, _ := NewOver(words[half:], hashes)
	return &Rotating{gens: [2]*Filter{a, b}, perGen: int64(perGeneration)}, nil
}

// AddHash records a key by its hash in the current generation, rotating
// first if that generation is full.
func (r *Rotating) AddHash(h uint64) {
	if r.adds.Add(1) > r.perGen {
		r.rotate()
	}
	r.gens[r.current.Load()&1].AddHash(h)
}

func (r *Rotating) rotate() {
	// One goroutine wins the reset of the counter and does the rotation;
	// others keep adding to whichever generation they see.
	if n := r.adds.Load(); n > r.perGen && r.adds.CompareAndSwap(n, 1) {
		next := (r.current.Load() + 1) & 1
		r.gens[next].Reset()
		r.current.Store(next)
	}
}

// HasHash reports whether a key with this hash was added in the current or
// the previous generation.
func (r *Rotating) HasHash(h uint64) bool {
	return r.gens[0].HasHash(h) || r.gens[1].HasHash(h)
}

// Reset forgets every key.
func (r *Rotating) Reset() {
	r.gens[0].Reset()
	r.gens[1].Reset()
	r.adds.Store(0)
}
