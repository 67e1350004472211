// Package keyhash is the keyed hash every part of a cache applies to keys:
// the shard, the index slot, the admission sketch and history, and Bloom
// guards. It is an engine part of ringcache; its API follows the root
// package's needs, not a stable API of its own.
//
// A hash that anyone can compute offline lets whoever controls keys (request
// paths, user ids) choose keys that share one shard and one probe run, and
// slow every operation on them by orders of magnitude. A Hasher is keyed by
// a secret seed, so such keys cannot be found without it.
package keyhash

import (
	"encoding/binary"
	"hash/maphash"

	"github.com/cespare/xxhash/v2"
)

// Hasher hashes keys under a seed. A Hasher is a small value, safe to copy
// and to use concurrently. The zero value is xxhash under seed 0, which
// anyone can compute: fine for tests, not for untrusted keys; use New.
type Hasher struct {
	random maphash.Seed
	fixed  uint64
	secret bool // random keys the hash; otherwise fixed does
}

// New returns a Hasher keyed by seed. Seed 0 picks a random key, known to
// no one and different in every process: hash/maphash, which the Go
// runtime's maps use for the same reason. A non-zero seed gives the same
// hashes in every process (xxhash under that seed), for reproducible
// tests and benchmarks; keys crafted without the seed are as random to it
// as any others, so keep it secret where keys come from untrusted sources.
func New(seed uint64) Hasher {
	if seed == 0 {
		return Hasher{random: maphash.MakeSeed(), secret: true}
	}
	return Hasher{fixed: seed}
}

// Sum returns the 64-bit hash of key.
func (h *Hasher) Sum(key []byte) uint64 {
	if h.secret {
		return maphash.Bytes(h.random, key)
	}
	// xxhash offers no one-shot hash under a seed, and its Digest costs
	// three calls and a copy for a short key; its one-shot Sum64 of the
	// seed's 8 bytes followed by the key is as keyed (the seed sets the
	// state every later word mixes into) and, for keys that fit the
	// buffer, twice as fast.
	if len(key) <= seededInline {
		var b [8 + seededInline]byte
		binary.LittleEndian.PutUint64(b[:], h.fixed)
		n := copy(b[8:], key)
		return xxhash.Sum64(b[:8+n])
	}
	var d xxhash.Digest
	d.Reset()
	var seed [8]byte
	binary.LittleEndian.PutUint64(seed[:], h.fixed)
	_, _ = d.Write(seed[:])
	_, _ = d.Write(key)
	return d.Sum64()
}

// seededInline is the longest key a seeded Sum hashes from a stack buffer.
const seededInline = 56
