package contenders

import (
	"github.com/ringcache/ringcache"
)

// ringcache: Get appends into dst with no allocation.
type ringAdapter struct{ c *ringcache.Cache }

// RingcacheOptions are what the command line sets of ringcache's Config:
// K, and whether sized passes the entry size on.
type RingcacheOptions struct {
	K        int
	SizeHint bool
}

// DefaultRingcache is RingcacheOptions as the flags default them.
var DefaultRingcache = RingcacheOptions{SizeHint: true}

// byBytes is ringcache as a user configures it by default (the throughput
// workload's read mixes, gc, memory): a random hash key (maphash).
func (rc RingcacheOptions) byBytes(budget int64) (Cache, error) { return rc.config(budget, 0, 0) }

// sized passes the entry size as Config.AvgEntrySize, which splits the
// memory between index and rings (0: the default, 128). It is what the
// hit-ratio replay builds, and there a fixed Seed makes ringcache's
// layout, and so its hit ratios, the same in every run; it hashes with
// seeded xxhash64, a few ns slower per operation than maphash.
func (rc RingcacheOptions) sized(budget int64, entrySize int) (Cache, error) {
	if !rc.SizeHint {
		entrySize = 0
	}
	return rc.config(budget, entrySize, 1)
}

func (rc RingcacheOptions) config(budget int64, entrySize int, seed uint64) (Cache, error) {
	if budget < ringcache.MinCapacity {
		return nil, ErrTooSmall
	}
	c, err := ringcache.New(ringcache.Config{Capacity: budget, AvgEntrySize: entrySize, K: rc.K, Seed: seed})
	return ringAdapter{c}, err
}
func (a ringAdapter) Get(dst []byte, k *Key) ([]byte, bool) { return a.c.Get(dst, k.B) }
func (a ringAdapter) Set(k *Key, v []byte)                  { _ = a.c.Set(k.B, v) }
func (a ringAdapter) Len() int                              { return a.c.Len() }
func (a ringAdapter) Close()                                { _ = a.c.Close() }
