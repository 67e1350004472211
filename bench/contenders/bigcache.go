package contenders

import (
	"context"
	"time"

	"github.com/allegro/bigcache/v3"
)

// bigcache: string keys, Get returns a fresh copy (its only read path).
// Entries never expire here (LifeWindow far beyond any run, no cleaner);
// HardMaxCacheSize bounds it in whole MiB.
type bigcacheAdapter struct{ c *bigcache.BigCache }

func newBigcache(budget int64) (Cache, error) {
	mb := int(budget >> 20)
	if mb < 1 {
		return nil, ErrTooSmall
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
func (a bigcacheAdapter) Get(dst []byte, k *Key) ([]byte, bool) {
	v, err := a.c.Get(k.S)
	return found(dst, v, err == nil)
}
func (a bigcacheAdapter) Set(k *Key, v []byte) { _ = a.c.Set(k.S, v) }
func (a bigcacheAdapter) Len() int             { return a.c.Len() }
func (a bigcacheAdapter) Close()               { _ = a.c.Close() }
