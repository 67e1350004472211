package main

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"sort"

	"github.com/ringcache/ringcache/bench/contenders"
)

// zipf draws ranks 0..n-1 with P(rank k) proportional to 1/(k+1)^s, by
// inverting a precomputed CDF (exact for any s > 0, unlike math/rand's
// Zipf, which needs s > 1). Ranks are then scrambled through a fixed random
// permutation, so that popular items are spread over the key space instead
// of being its first keys; this is the intent of YCSB's ScrambledZipfian,
// done with a bijection so no two ranks share a key.
type zipf struct {
	cdf  []float64
	perm []uint32
	rng  *rand.Rand
}

func newZipf(n int, s float64, seed uint64) *zipf {
	z := &zipf{cdf: make([]float64, n), perm: make([]uint32, n), rng: rand.New(rand.NewPCG(seed, 0x2545F4914F6CDD1D))}
	sum := 0.0
	for k := range n {
		sum += 1 / math.Pow(float64(k+1), s)
		z.cdf[k] = sum
	}
	for k := range z.cdf {
		z.cdf[k] /= sum
	}
	for i := range z.perm {
		z.perm[i] = uint32(i)
	}
	z.rng.Shuffle(n, func(i, j int) { z.perm[i], z.perm[j] = z.perm[j], z.perm[i] })
	return z
}

// rank returns the next unscrambled rank.
func (z *zipf) rank() int {
	u := z.rng.Float64()
	return min(sort.SearchFloat64s(z.cdf, u), len(z.cdf)-1)
}

// next returns the next key index.
func (z *zipf) next() uint32 { return z.perm[z.rank()] }

// byLikelihood returns every key index, most likely first.
func (z *zipf) byLikelihood() []uint64 {
	out := make([]uint64, len(z.perm))
	for rank, k := range z.perm {
		out[rank] = uint64(k)
	}
	return out
}

// stream returns m key indexes.
func (z *zipf) stream(m int) []uint32 {
	out := make([]uint32, m)
	for i := range out {
		out[i] = z.next()
	}
	return out
}

// makeKeys returns n distinct keys of keyLen bytes (at least 8): the index,
// then filler.
func makeKeys(n, keyLen int) []contenders.Key {
	keys := make([]contenders.Key, n)
	for i := range keys {
		b := make([]byte, max(keyLen, 8))
		binary.BigEndian.PutUint64(b, uint64(i))
		for j := 8; j < len(b); j++ {
			b[j] = byte('a' + (i+j)%26)
		}
		keys[i] = contenders.MakeKey(b)
	}
	return keys
}

// keyOf encodes one trace or synthetic item as an 8-byte key.
func keyOf(id uint64) contenders.Key {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8), id)
	return contenders.MakeKey(b)
}
