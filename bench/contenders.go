package main

import (
	"context"
	"errors"
	"time"

	"github.com/VictoriaMetrics/fastcache"
	theine "github.com/Yiling-J/theine-go"
	"github.com/allegro/bigcache/v3"
	"github.com/coocood/freecache"
	"github.com/dgraph-io/ristretto/v2"
	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/maypok86/otter/v2"

	"github.com/ringcache/ringcache"
)

// key carries a key in both forms, made before any timed loop, so byte
// caches and generic caches each get theirs without a conversion.
type key struct {
	b []byte
	s string
}

func makeKey(b []byte) key { return key{b: b, s: string(b)} }

// cache is what every workload drives. Get returns the value, appended to
// dst where the cache has such a path. Set stores the value; byte caches
// copy it, generic caches keep the slice as they are meant to be used.
type cache interface {
	Get(dst []byte, k *key) ([]byte, bool)
	Set(k *key, value []byte)
	// Len is the cache's own count of entries held, used to calibrate
	// byte caches (an estimate, or 0, for some generic caches).
	Len() int
	Close()
}

// sizing says how to build a contender: for a count of entries (generic
// caches use it directly, byte caches only through calibration) or for a
// byte budget.
type contender struct {
	name string
	// byteCache is true for caches bounded in bytes only.
	byteCache bool
	// byCount builds a cache bounded at n entries; nil for byte caches.
	byCount func(n int) (cache, error)
	// byBytes builds a cache bounded at budget bytes, counting each entry
	// as len(key)+len(value) where the cache takes a weight. It fails with
	// errTooSmall when the cache cannot be made that small.
	byBytes func(budget int64) (cache, error)
	// minBytes is the smallest budget byBytes honours.
	minBytes int64
	// sized is byBytes told the size of every entry, for caches that take
	// such a hint (ringcache's AvgEntrySize); workloads whose entries all
	// have one size (hit ratio, insert-only throughput) use it where set.
	sized func(budget int64, entrySize int) (cache, error)
}

// bytesFor returns how to build c at a byte budget for entries of
// entrySize bytes: with the size hint where c takes one.
func (c contender) bytesFor(entrySize int) func(budget int64) (cache, error) {
	if c.sized == nil {
		return c.byBytes
	}
	return func(budget int64) (cache, error) { return c.sized(budget, entrySize) }
}

var errTooSmall = errors.New("cannot be made that small")

// contendersWith returns every contender, ringcache configured by rc.
func contendersWith(rc ringcacheOptions) []contender {
	return []contender{
		{name: "ringcache", byteCache: true, minBytes: ringcache.MinCapacity, byBytes: rc.byBytes, sized: rc.sized},
		{name: "freecache", byteCache: true, minBytes: 512 << 10, byBytes: newFreecache},
		{name: "fastcache", byteCache: true, minBytes: 32 << 20, byBytes: newFastcache},
		{name: "bigcache", byteCache: true, minBytes: 1 << 20, byBytes: newBigcache},
		{name: "ristretto", byCount: newRistrettoCount, byBytes: newRistrettoBytes},
		{name: "otter", byCount: newOtterCount, byBytes: newOtterBytes},
		{name: "theine", byCount: newTheineCount, byBytes: newTheineBytes},
		{name: "golang-lru", byCount: newLRU, byBytes: nil},
	}
}

func contenderNamed(list []contender, name string) (contender, bool) {
	for _, c := range list {
		if c.name == name {
			return c, true
		}
	}
	return contender{}, false
}

// ringcache: Get appends into dst with no allocation.
type ringAdapter struct{ c *ringcache.Cache }

// ringcacheOptions are what the command line sets of ringcache's Config:
// K, and whether sized passes the entry size on.
type ringcacheOptions struct {
	k        int
	sizeHint bool
}

// defaultRingcache is ringcacheOptions as the flags default them.
var defaultRingcache = ringcacheOptions{sizeHint: true}

// byBytes is ringcache as a user configures it by default (the throughput
// workload's read mixes, gc, memory): a random hash key (maphash).
func (rc ringcacheOptions) byBytes(budget int64) (cache, error) { return rc.config(budget, 0, 0) }

// sized passes the entry size as Config.AvgEntrySize, which splits the
// memory between index and rings (0: the default, 128). It is what the
// hit-ratio replay builds, and there a fixed Seed makes ringcache's
// layout, and so its hit ratios, the same in every run; it hashes with
// seeded xxhash64, a few ns slower per operation than maphash.
func (rc ringcacheOptions) sized(budget int64, entrySize int) (cache, error) {
	if !rc.sizeHint {
		entrySize = 0
	}
	return rc.config(budget, entrySize, 1)
}

func (rc ringcacheOptions) config(budget int64, entrySize int, seed uint64) (cache, error) {
	if budget < ringcache.MinCapacity {
		return nil, errTooSmall
	}
	c, err := ringcache.New(ringcache.Config{Capacity: budget, AvgEntrySize: entrySize, K: rc.k, Seed: seed})
	return ringAdapter{c}, err
}
func (a ringAdapter) Get(dst []byte, k *key) ([]byte, bool) { return a.c.Get(dst, k.b) }
func (a ringAdapter) Set(k *key, v []byte)                  { _ = a.c.Set(k.b, v) }
func (a ringAdapter) Len() int                              { return a.c.Len() }
func (a ringAdapter) Close()                                { _ = a.c.Close() }

// freecache: GetWithBuf is its non-allocating read (it copies into buf).
type freecacheAdapter struct{ c *freecache.Cache }

func newFreecache(budget int64) (cache, error) {
	if budget < 512<<10 {
		return nil, errTooSmall // NewCache silently raises smaller sizes to 512 KiB
	}
	return freecacheAdapter{freecache.NewCache(int(budget))}, nil
}
func (a freecacheAdapter) Get(dst []byte, k *key) ([]byte, bool) {
	v, err := a.c.GetWithBuf(k.b, dst[len(dst):cap(dst)])
	if err != nil {
		return dst, false
	}
	if len(v) <= cap(dst)-len(dst) {
		return dst[:len(dst)+len(v)], true // copied into dst's spare room
	}
	return append(dst, v...), true
}
func (a freecacheAdapter) Set(k *key, v []byte) { _ = a.c.Set(k.b, v, 0) }
func (a freecacheAdapter) Len() int             { return int(a.c.EntryCount()) }
func (a freecacheAdapter) Close()               {}

// fastcache: HasGet appends into dst.
type fastcacheAdapter struct{ c *fastcache.Cache }

func newFastcache(budget int64) (cache, error) {
	if budget < 32<<20 {
		return nil, errTooSmall // New raises smaller sizes to 32 MiB
	}
	return fastcacheAdapter{fastcache.New(int(budget))}, nil
}
func (a fastcacheAdapter) Get(dst []byte, k *key) ([]byte, bool) { return a.c.HasGet(dst, k.b) }
func (a fastcacheAdapter) Set(k *key, v []byte)                  { a.c.Set(k.b, v) }
func (a fastcacheAdapter) Len() int {
	var s fastcache.Stats
	a.c.UpdateStats(&s)
	return int(s.EntriesCount)
}
func (a fastcacheAdapter) Close() { a.c.Reset() }

// bigcache: string keys, Get returns a fresh copy (its only read path).
// Entries never expire here (LifeWindow far beyond any run, no cleaner);
// HardMaxCacheSize bounds it in whole MiB.
type bigcacheAdapter struct{ c *bigcache.BigCache }

func newBigcache(budget int64) (cache, error) {
	mb := int(budget >> 20)
	if mb < 1 {
		return nil, errTooSmall
	}
	cfg := bigcache.DefaultConfig(24 * time.Hour)
	cfg.CleanWindow = 0
	cfg.Verbose = false
	cfg.Logger = nil
	cfg.HardMaxCacheSize = mb
	// Shards must each get at least a few hundred KiB or bigcache's
	// per-shard floor overshoots the budget.
	for cfg.Shards > 1 && budget/int64(cfg.Shards) < 256<<10 {
		cfg.Shards /= 2
	}
	cfg.MaxEntriesInWindow = int(budget / 160)
	cfg.MaxEntrySize = 160
	c, err := bigcache.New(context.Background(), cfg)
	return bigcacheAdapter{c}, err
}
func (a bigcacheAdapter) Get(dst []byte, k *key) ([]byte, bool) {
	v, err := a.c.Get(k.s)
	if err != nil {
		return dst, false
	}
	return append(dst, v...), true
}
func (a bigcacheAdapter) Set(k *key, v []byte) { _ = a.c.Set(k.s, v) }
func (a bigcacheAdapter) Len() int             { return a.c.Len() }
func (a bigcacheAdapter) Close()               { _ = a.c.Close() }

// ristretto: string keys, NumCounters 10x the items as its docs advise,
// BufferItems 64, costs given explicitly (IgnoreInternalCost).
type ristrettoAdapter struct {
	c     *ristretto.Cache[string, []byte]
	weigh bool
}

func newRistretto(maxCost, counters int64, weigh bool) (cache, error) {
	c, err := ristretto.NewCache(&ristretto.Config[string, []byte]{
		NumCounters:        counters,
		MaxCost:            maxCost,
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	return ristrettoAdapter{c: c, weigh: weigh}, err
}
func newRistrettoCount(n int) (cache, error) { return newRistretto(int64(n), 10*int64(n), false) }
func newRistrettoBytes(budget int64) (cache, error) {
	return newRistretto(budget, 10*(budget/144+1), true)
}
func (a ristrettoAdapter) Get(dst []byte, k *key) ([]byte, bool) {
	v, ok := a.c.Get(k.s)
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}
func (a ristrettoAdapter) Set(k *key, v []byte) {
	cost := int64(1)
	if a.weigh {
		cost = int64(len(k.s) + len(v))
	}
	a.c.Set(k.s, v, cost)
}

// Len is not tracked: ristretto counts only with Metrics on, which costs
// throughput. Nothing sizes ristretto by calibration, so nothing needs it.
func (a ristrettoAdapter) Len() int { return 0 }
func (a ristrettoAdapter) Close()   { a.c.Close() }

// otter v2: string keys, MaximumSize, or MaximumWeight with a weigher.
type otterAdapter struct{ c *otter.Cache[string, []byte] }

func newOtterCount(n int) (cache, error) {
	c, err := otter.New(&otter.Options[string, []byte]{MaximumSize: n})
	return otterAdapter{c}, err
}
func newOtterBytes(budget int64) (cache, error) {
	c, err := otter.New(&otter.Options[string, []byte]{
		MaximumWeight: uint64(budget),
		Weigher:       func(k string, v []byte) uint32 { return uint32(len(k) + len(v)) },
	})
	return otterAdapter{c}, err
}
func (a otterAdapter) Get(dst []byte, k *key) ([]byte, bool) {
	v, ok := a.c.GetIfPresent(k.s)
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}
func (a otterAdapter) Set(k *key, v []byte) { a.c.Set(k.s, v) }
func (a otterAdapter) Len() int             { return a.c.EstimatedSize() }
func (a otterAdapter) Close()               { a.c.StopAllGoroutines() }

// theine: string keys; its capacity is in cost units (1 per entry, or
// bytes with a weight).
type theineAdapter struct {
	c     *theine.Cache[string, []byte]
	weigh bool
}

func newTheineCount(n int) (cache, error) {
	c, err := theine.NewBuilder[string, []byte](int64(n)).Build()
	return theineAdapter{c: c}, err
}
func newTheineBytes(budget int64) (cache, error) {
	c, err := theine.NewBuilder[string, []byte](budget).Build()
	return theineAdapter{c: c, weigh: true}, err
}
func (a theineAdapter) Get(dst []byte, k *key) ([]byte, bool) {
	v, ok := a.c.Get(k.s)
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}
func (a theineAdapter) Set(k *key, v []byte) {
	cost := int64(1)
	if a.weigh {
		cost = int64(len(k.s) + len(v))
	}
	a.c.Set(k.s, v, cost)
}
func (a theineAdapter) Len() int { return a.c.Len() }
func (a theineAdapter) Close()   { a.c.Close() }

// golang-lru: the thread-safe LRU, bounded by count only.
type lruAdapter struct{ c *lru.Cache[string, []byte] }

func newLRU(n int) (cache, error) {
	c, err := lru.New[string, []byte](n)
	return lruAdapter{c}, err
}
func (a lruAdapter) Get(dst []byte, k *key) ([]byte, bool) {
	v, ok := a.c.Get(k.s)
	if !ok {
		return dst, false
	}
	return append(dst, v...), true
}
func (a lruAdapter) Set(k *key, v []byte) { a.c.Add(k.s, v) }
func (a lruAdapter) Len() int             { return a.c.Len() }
func (a lruAdapter) Close()               {}

// build makes c hold about n entries of entrySize bytes (key plus value):
// generic caches by count; byte caches get the budget that calibration
// found, or errTooSmall.
func (c contender) build(n, entrySize int) (cache, error) {
	if c.byCount != nil {
		return c.byCount(n)
	}
	budget, err := calibrate(c, n, entrySize)
	if err != nil {
		return nil, err
	}
	return c.bytesFor(entrySize)(budget)
}

// wait applies the writes a cache has accepted but not yet applied: its
// buffered sets and the evictions they make.
func (a ristrettoAdapter) wait() { a.c.Wait() }
func (a theineAdapter) wait()    { a.c.Wait() }
func (a otterAdapter) wait()     { a.c.CleanUp() }
