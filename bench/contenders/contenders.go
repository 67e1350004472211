package contenders

import (
	"errors"

	"github.com/ringcache/ringcache"
)

// Key carries a key in both forms, made before any timed loop, so byte
// caches and generic caches each get theirs without a conversion.
type Key struct {
	B []byte
	S string
}

func MakeKey(b []byte) Key { return Key{B: b, S: string(b)} }

// Cache is what every workload drives. Get returns the value, appended to
// dst where the cache has such a path. Set stores the value; byte caches
// copy it, generic caches keep the slice as they are meant to be used.
type Cache interface {
	Get(dst []byte, k *Key) ([]byte, bool)
	Set(k *Key, value []byte)
	// Len is the cache's own count of entries held, used to calibrate
	// byte caches (an estimate, or 0, for some generic caches).
	Len() int
	Close()
}

// Contender says how to build a cache: for a count of entries (generic
// caches use it directly, byte caches only through calibration) or for a
// byte budget.
type Contender struct {
	Name string
	// ByteCache is true for caches bounded in bytes only.
	ByteCache bool
	// ByCount builds a cache bounded at n entries; nil for byte caches.
	ByCount func(n int) (Cache, error)
	// ByBytes builds a cache bounded at budget bytes, counting each entry
	// as len(key)+len(value) where the cache takes a weight. It fails with
	// ErrTooSmall when the cache cannot be made that small.
	ByBytes func(budget int64) (Cache, error)
	// MinBytes is the smallest budget byBytes honours.
	MinBytes int64
	// Sized is byBytes told the size of every entry, for caches that take
	// such a hint (ringcache's AvgEntrySize); workloads whose entries all
	// have one size (hit ratio, insert-only throughput) use it where set.
	Sized func(budget int64, entrySize int) (Cache, error)
	// Varies is true for caches whose hit ratio on one request sequence
	// differs from one instance to the next: each seeds its hashes anew
	// (otter, theine, and ristretto, which also samples its victims from
	// a map's random order). The hit-ratio workload averages several.
	Varies bool
}

// BytesFor returns how to build c at a byte budget for entries of
// entrySize bytes: with the size hint where c takes one.
func (c Contender) BytesFor(entrySize int) func(budget int64) (Cache, error) {
	if c.Sized == nil {
		return c.ByBytes
	}
	return func(budget int64) (Cache, error) { return c.Sized(budget, entrySize) }
}

var ErrTooSmall = errors.New("cannot be made that small")

// All returns every contender, ringcache configured by rc.
func All(rc RingcacheOptions) []Contender {
	return []Contender{
		{Name: "ringcache", ByteCache: true, MinBytes: ringcache.MinCapacity, ByBytes: rc.byBytes, Sized: rc.sized},
		{Name: "freecache", ByteCache: true, MinBytes: 512 << 10, ByBytes: newFreecache},
		{Name: "fastcache", ByteCache: true, MinBytes: 32 << 20, ByBytes: newFastcache},
		{Name: "bigcache", ByteCache: true, MinBytes: 1 << 20, ByBytes: newBigcache},
		{Name: "ristretto", ByCount: newRistrettoCount, ByBytes: newRistrettoBytes, Varies: true},
		{Name: "otter", ByCount: newOtterCount, ByBytes: newOtterBytes, Varies: true},
		{Name: "theine", ByCount: newTheineCount, ByBytes: newTheineBytes, Varies: true},
		{Name: "golang-lru", ByCount: newLRU, ByBytes: nil},
	}
}

func Named(list []Contender, name string) (Contender, bool) {
	for _, c := range list {
		if c.Name == name {
			return c, true
		}
	}
	return Contender{}, false
}

// Settler is a cache that applies its writes in deferred maintenance:
// Settle applies the writes it has accepted and the evictions they make.
type Settler interface{ Settle() }

// found is a generic cache's read appended to dst.
func found(dst, v []byte, ok bool) ([]byte, bool) {
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}

// weight is an entry's cost: 1, or its key and value bytes when weighed.
func weight(weigh bool, k *Key, v []byte) int64 {
	if weigh {
		return int64(len(k.S) + len(v))
	}
	return 1
}
