package contenders

import (
	"github.com/dgraph-io/ristretto/v2"
)

// ristretto: string keys, NumCounters 10x the items as its docs advise,
// BufferItems 64, costs given explicitly (IgnoreInternalCost).
type ristrettoAdapter struct {
	c     *ristretto.Cache[string, []byte]
	weigh bool
}

func newRistretto(maxCost, counters int64, weigh bool) (Cache, error) {
	c, err := ristretto.NewCache(&ristretto.Config[string, []byte]{
		NumCounters:        counters,
		MaxCost:            maxCost,
		BufferItems:        64,
		IgnoreInternalCost: true,
	})
	return ristrettoAdapter{c: c, weigh: weigh}, err
}
func newRistrettoCount(n int) (Cache, error) { return newRistretto(int64(n), 10*int64(n), false) }
func newRistrettoBytes(budget int64) (Cache, error) {
	return newRistretto(budget, 10*(budget/144+1), true)
}
func (a ristrettoAdapter) Get(dst []byte, k *Key) ([]byte, bool) {
	v, ok := a.c.Get(k.S)
	return found(dst, v, ok)
}
func (a ristrettoAdapter) Set(k *Key, v []byte) {
	a.c.Set(k.S, v, weight(a.weigh, k, v))
}

// Len is not tracked: ristretto counts only with Metrics on, which costs
// throughput. Nothing sizes ristretto by calibration, so nothing needs it.
func (a ristrettoAdapter) Len() int { return 0 }
func (a ristrettoAdapter) Close()   { a.c.Close() }

func (a ristrettoAdapter) Settle() { a.c.Wait() }
