package bloom

import (
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/ringcache/ringcache/keyhash"
)

// ErrInvalidSize is returned for a non-positive item count or a false
// positive rate outside (0, 1).
var ErrInvalidSize = errors.New("bloom: invalid size")

const (
	wordsPerBlock = 8 // 8 x 64 bits = one 64-byte cache line
	blockBits     = wordsPerBlock * 64
	maxHashes     = 16
	// maxBlocks is 256 GiB of filter, beyond any sane use, or what the
	// address space holds on 32-bit targets.
	maxBlocks = min(1<<32, math.MaxInt/(wordsPerBlock*8))
)

// Filter is a blocked Bloom filter. The zero value is unusable; use New.
type Filter struct {
	words  []uint64 // accessed only atomically
	blocks uint64
	hashes int
	// hasher keys the hash of Add, Has and AddIfAbsent: each filter draws
	// its own random key, so nobody can pick keys offline that pass it.
	hasher keyhash.Hasher
}

// New returns a filter sized for items keys at the false positive rate p
// (for example 0.01). Its memory is Bytes() bytes: about 1.1 x the
// textbook -items*ln(p)/ln(2)^2 bits, the price of blocking.
func New(items int, p float64) (*Filter, error) {
	sz, err := sizing(items, p)
	if err != nil {
		return nil, err
	}
	return NewOver(make([]uint64, sz.words), sz.hashes)
}

type size struct{ words, hashes int }

func sizing(items int, p float64) (size, error) {
	if items <= 0 || !(p > 0 && p < 1) {
		return size{}, fmt.Errorf("%w: %d items at rate %v", ErrInvalidSize, items, p)
	}
	bitsPerKey := -math.Log(p) / (math.Ln2 * math.Ln2)
	hashes := int(math.Round(bitsPerKey * math.Ln2))
	hashes = min(max(hashes, 1), maxHashes)
	// Blocking concentrates keys unevenly; a tenth more bits brings the
	// measured rate back under the target (see the package tests).
	blocks := uint64(math.Ceil(float64(items) * bitsPerKey * 1.1 / blockBits))
	if blocks > maxBlocks {
		return size{}, fmt.Errorf("%w: %d items at rate %v need more than %d blocks", ErrInvalidSize, items, p, uint64(maxBlocks))
	}
	return size{words: int(blocks) * wordsPerBlock, hashes: hashes}, nil
}

// NewOver returns a filter that uses words as its bit array, for callers
// that place the filter in memory of their own. len(words) must be a
// positive multiple of 8; hashes (bits per key) from 1 to 16. The words
// should be zero: set bits read as keys already added.
func NewOver(words []uint64, hashes int) (*Filter, error) {
	if len(words) == 0 || len(words)%wordsPerBlock != 0 || hashes < 1 || hashes > maxHashes {
		return nil, fmt.Errorf("%w: %d words, %d hashes", ErrInvalidSize, len(words), hashes)
	}
	return &Filter{words: words, blocks: uint64(len(words) / wordsPerBlock), hashes: hashes, hasher: keyhash.New(0)}, nil
}

// Add records key. Add, Has and AddIfAbsent hash keys under the filter's
// own random key; the *Hash methods take a hash of the caller's, and a
// filter should be used through one kind or the other.
func (f *Filter) Add(key []byte) { f.AddHash(f.hasher.Sum(key)) }

// Has reports whether key may have been added.
func (f *Filter) Has(key []byte) bool { return f.HasHash(f.hasher.Sum(key)) }

// AddIfAbsent adds key and reports whether it was certainly absent before:
// the test and the add in one pass over the block. Two goroutines adding
// the same new key at once may both see it absent.
func (f *Filter) AddIfAbsent(key []byte) bool { return f.AddIfAbsentHash(f.hasher.Sum(key)) }

// block returns the first word of h's block and the seed of the bits
// inside it. The block comes from the high half of h; the bits from a
// remix of all of it, stepped per probe (double hashing within 512 bits
// repeats patterns and measurably raises the false positive rate).
func (f *Filter) block(h uint64) (uint64, uint64) {
	return ((h >> 32) * f.blocks >> 32) * wordsPerBlock, h*0x9E3779B97F4A7C15 | 1
}

// probe returns the next bit of a key's sequence: a multiplicative step,
// whose top 9 bits pick among the block's 512.
func probe(x uint64) (uint64, uint64) {
	x = (x ^ x>>29) * 0xBF58476D1CE4E5B9
	return x >> (64 - 9), x
}

// AddHash records a key by its hash.
func (f *Filter) AddHash(h uint64) { f.AddIfAbsentHash(h) }

// HasHash reports whether a key with this hash may have been added.
func (f *Filter) HasHash(h uint64) bool {
	b, x := f.block(h)
	var bit uint64
	for i := 0; i < f.hashes; i++ {
		bit, x = probe(x)
		if atomic.LoadUint64(&f.words[b+bit/64])&(1<<(bit%64)) == 0 {
			return false
		}
	}
	return true
}

// AddIfAbsentHash is AddIfAbsent for a precomputed hash.
func (f *Filter) AddIfAbsentHash(h uint64) bool {
	b, x := f.block(h)
	absent := false
	var bit uint64
	for i := 0; i < f.hashes; i++ {
		bit, x = probe(x)
		w := &f.words[b+bit/64]
		// Load first: setting a bit already set would dirty the line.
		if mask := uint64(1) << (bit % 64); atomic.LoadUint64(w)&mask == 0 {
			absent = true
			atomic.OrUint64(w, mask)
		}
	}
	return absent
}

// Reset clears every bit. Concurrent Adds may survive it or not.
func (f *Filter) Reset() {
	for i := range f.words {
		atomic.StoreUint64(&f.words[i], 0)
	}
}

// Bytes returns the filter's memory in bytes.
func (f *Filter) Bytes() int { return len(f.words) * 8 }

// FalsePositiveRate returns the expected false positive rate after n
// distinct keys, for this filter's size, hash count and block layout: the
// textbook formula applied within a block, averaged over the Poisson spread
// of keys among blocks.
func (f *Filter) FalsePositiveRate(n int) float64 {
	lambda := float64(n) / float64(f.blocks)
	k := float64(f.hashes)
	rate, pj := 0.0, math.Exp(-lambda) // pj = P(a block holds j keys)
	for j := 0; j < 100+int(10*lambda); j++ {
		if j > 0 {
			pj *= lambda / float64(j)
		}
		rate += pj * math.Pow(1-math.Pow(1-1.0/blockBits, k*float64(j)), k)
	}
	return rate
}

// Size returns the words (64-bit) and bits per key New would use for items
// keys at rate p, for callers that place filters in their own memory with
// NewOver. It returns zeros for arguments New rejects.
func Size(items int, p float64) (words, hashes int) {
	f, err := sizing(items, p)
	if err != nil {
		return 0, 0
	}
	return f.words, f.hashes
}
