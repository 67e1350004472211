package contenders

import (
	"github.com/VictoriaMetrics/fastcache"
)

// fastcache: HasGet appends into dst.
type fastcacheAdapter struct{ c *fastcache.Cache }

func newFastcache(budget int64) (Cache, error) {
	if budget < 32<<20 {
		return nil, ErrTooSmall // New raises smaller sizes to 32 MiB
	}
	return fastcacheAdapter{fastcache.New(int(budget))}, nil
}
func (a fastcacheAdapter) Get(dst []byte, k *Key) ([]byte, bool) { return a.c.HasGet(dst, k.B) }
func (a fastcacheAdapter) Set(k *Key, v []byte)                  { a.c.Set(k.B, v) }
func (a fastcacheAdapter) Len() int {
	var s fastcache.Stats
	a.c.UpdateStats(&s)
	return int(s.EntriesCount)
}
func (a fastcacheAdapter) Close() { a.c.Reset() }
