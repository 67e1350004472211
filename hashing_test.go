package ringcache_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/shard"
)

// craftedKeys returns n keys that an unkeyed xxhash sends to the same
// home slot of a one-shard cache of the given capacity: what anyone can
// compute offline against a cache that hashes keys without a secret.
func craftedKeys(capacity, n int) [][]byte {
	slots := shard.PlanLayout(capacity, shard.Options{AvgPayload: ringcache.DefaultAvgEntrySize, Policy: evict.LRUK}).Slots
	var keys [][]byte
	for i := uint64(0); len(keys) < n; i++ {
		k := binary.LittleEndian.AppendUint64(make([]byte, 0, 8), i)
		if tag := uint32(xxhash.Sum64(k)); uint64(tag)*uint64(slots)>>32 == 0 {
			keys = append(keys, k)
		}
	}
	return keys
}

// perOp is the best of a few rounds of one Set and one Get of every key,
// in a fresh cache each round, per key.
func perOp(t *testing.T, cfg ringcache.Config, keys [][]byte) time.Duration {
	best := time.Duration(1 << 62)
	value := make([]byte, 32)
	dst := make([]byte, 0, 64)
	for range 5 {
		c := newCache(t, cfg)
		start := time.Now()
		for _, k := range keys {
			_ = c.Set(k, value)
		}
		for _, k := range keys {
			dst, _ = c.Get(dst[:0], k)
		}
		best = min(best, time.Since(start)/time.Duration(2*len(keys)))
		require.NoError(t, c.Close())
	}
	return best
}

func TestKeysCraftedAgainstAnUnkeyedHashCostLikeRandomKeys(t *testing.T) {
	const capacity, n = 1 << 20, 2000
	crafted := craftedKeys(capacity, n)
	random := make([][]byte, n)
	for i := range random {
		random[i] = binary.LittleEndian.AppendUint64(nil, uint64(i)*0x9E3779B97F4A7C15)
	}
	cfg := ringcache.Config{Capacity: capacity, Shards: 1}
	c, r := perOp(t, cfg, crafted), perOp(t, cfg, random)
	t.Logf("crafted %v, random %v per operation: %.2fx", c, r, float64(c)/float64(r))
	require.LessOrEqual(t, float64(c), 3*float64(r), "crafted keys pile into one probe run")
}
