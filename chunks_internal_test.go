package ringcache

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// Every chunk is checked on read: one overwritten in place (same length,
// one byte changed) or replaced by an entry that is not a chunk makes the
// value a miss.
func TestADamagedChunkIsAMiss(t *testing.T) {
	for name, damage := range map[string]func(c *Cache, h uint64, m manifest){
		"a byte flipped": func(c *Cache, h uint64, m manifest) {
			ck := chunkKey(nil, m.id, 1)
			c.chunkShard(h, 1).Update(c.hasher.Sum(ck), ck, c.clock.Now(), func(v []byte, _ bool, expiry int64) (int64, bool) {
				v[frameSize+100] ^= 1
				return expiry, true
			})
		},
		"replaced by a plain value": func(c *Cache, h uint64, m manifest) {
			ck := chunkKey(nil, m.id, 2)
			require.NoError(t, c.chunkShard(h, 2).Set(c.hasher.Sum(ck), ck, make([]byte, 10), c.clock.Now(), 0, false))
		},
		"gone": func(c *Cache, h uint64, m manifest) {
			ck := chunkKey(nil, m.id, 0)
			c.chunkShard(h, 0).Delete(c.hasher.Sum(ck), ck, c.clock.Now(), nil)
		},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := New(Config{Capacity: 8 << 20})
			require.NoError(t, err)
			defer c.Close()
			key := []byte("doc")
			value := make([]byte, 200<<10)
			r := rand.New(rand.NewPCG(1, 1))
			for i := range value {
				value[i] = byte(r.Uint32())
			}
			require.NoError(t, c.Set(key, value))
			h := c.hasher.Sum(key)
			m := c.manifestOf(h, key, c.clock.Now())
			require.GreaterOrEqual(t, m.chunks, 3)
			damage(c, h, m)
			_, ok := c.Get(nil, key)
			require.False(t, ok)
			require.False(t, c.GetFunc(key, func([]byte) { t.Fatal("a damaged value was shown") }))
			if name != "a byte flipped" { // a missing chunk is seen without reading the bytes
				require.False(t, c.Has(key))
				_, ok = c.TTL(key)
				require.False(t, ok)
				require.False(t, c.Touch(key, 0))
				require.False(t, c.Delete(key), "a value a Get misses was not live")
			}
			require.NoError(t, c.Check())
		})
	}
}
