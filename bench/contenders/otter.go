package contenders

import (
	"github.com/maypok86/otter/v2"
)

// otter v2: string keys, MaximumSize, or MaximumWeight with a weigher.
type otterAdapter struct{ c *otter.Cache[string, []byte] }

func newOtterCount(n int) (Cache, error) {
	c, err := otter.New(&otter.Options[string, []byte]{MaximumSize: n})
	return otterAdapter{c}, err
}
func newOtterBytes(budget int64) (Cache, error) {
	c, err := otter.New(&otter.Options[string, []byte]{
		MaximumWeight: uint64(budget),
		Weigher:       func(k string, v []byte) uint32 { return uint32(len(k) + len(v)) },
	})
	return otterAdapter{c}, err
}
func (a otterAdapter) Get(dst []byte, k *Key) ([]byte, bool) {
	v, ok := a.c.GetIfPresent(k.S)
	return found(dst, v, ok)
}
func (a otterAdapter) Set(k *Key, v []byte) { a.c.Set(k.S, v) }
func (a otterAdapter) Len() int             { return a.c.EstimatedSize() }
func (a otterAdapter) Close()               { a.c.StopAllGoroutines() }

func (a otterAdapter) Settle() { a.c.CleanUp() }
