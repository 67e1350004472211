package ringcache_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/ttl"
)

// randomBytes returns n bytes that do not compress.
func randomBytes(seed uint64, n int) []byte {
	b := make([]byte, n)
	r := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// A cache of 8 MiB has 32 shards of 256 KiB, each storing entries up to
// about 57 KB; values up to an eighth of the capacity go in chunks.
func chunkingCache(t *testing.T, cfg ringcache.Config) (*ringcache.Cache, *ttl.Clock) {
	clock := ttl.NewManualClock()
	cfg.Capacity, cfg.Clock = 8<<20, clock
	c := newCache(t, cfg)
	require.Equal(t, 1<<20, c.MaxEntrySize(), "an eighth of the capacity")
	return c, clock
}

func TestAValueLargerThanAShardRoundTrips(t *testing.T) {
	for name, codec := range map[string]ringcache.Codec{"plain": ringcache.NoCompression, "s2": ringcache.S2, "zstd": ringcache.Zstd} {
		t.Run(name, func(t *testing.T) {
			c, _ := chunkingCache(t, ringcache.Config{Compression: ringcache.Compression{Codec: codec}})
			key := []byte("page:/reports/2026")
			value := randomBytes(1, 300<<10)
			if codec != ringcache.NoCompression {
				value = bytes.Repeat([]byte("<tr><td>row</td></tr>\n"), 300<<10/22) // compresses
			}
			require.NoError(t, c.Set(key, value))
			got, ok := c.Get([]byte("prefix"), key)
			require.True(t, ok)
			require.Equal(t, append([]byte("prefix"), value...), got, "appended to dst, exactly")
			var seen []byte
			require.True(t, c.GetFunc(key, func(v []byte) { seen = bytes.Clone(v) }))
			require.Equal(t, value, seen)
			require.True(t, c.Has(key))
			require.NoError(t, c.Check())

			// Overwritten by another large value, then by a small one.
			other := randomBytes(2, 200<<10)
			require.NoError(t, c.Set(key, other))
			got, ok = c.Get(nil, key)
			require.True(t, ok)
			require.Equal(t, other, got)
			require.NoError(t, c.Set(key, []byte("small")))
			got, ok = c.Get(nil, key)
			require.True(t, ok)
			require.Equal(t, "small", string(got))

			require.NoError(t, c.Set(key, value))
			require.True(t, c.Delete(key))
			_, ok = c.Get(nil, key)
			require.False(t, ok)
			require.False(t, c.Has(key))
			require.NoError(t, c.Check())
		})
	}
}

func TestLimitsOfLargeValues(t *testing.T) {
	c, _ := chunkingCache(t, ringcache.Config{})
	key := []byte("k")
	require.NoError(t, c.Set(key, make([]byte, c.MaxEntrySize()-len(key))), "the limit itself")
	got, ok := c.Get(nil, key)
	require.True(t, ok)
	require.Len(t, got, c.MaxEntrySize()-len(key))
	require.ErrorIs(t, c.Set(key, make([]byte, c.MaxEntrySize())), ringcache.ErrEntryTooLarge)
	got, ok = c.Get(nil, key)
	require.True(t, ok, "a failed Set leaves the earlier value")
	require.Len(t, got, c.MaxEntrySize()-len(key))
}

func TestLargeValuesExpireAndTouchExtendsThem(t *testing.T) {
	c, clock := chunkingCache(t, ringcache.Config{})
	key, value := []byte("doc"), randomBytes(3, 150<<10)
	require.NoError(t, c.SetWithTTL(key, value, time.Second))
	left, ok := c.TTL(key)
	require.True(t, ok)
	require.Equal(t, time.Second, left)
	clock.Advance(900 * time.Millisecond)
	require.True(t, c.Touch(key, time.Second))
	clock.Advance(900 * time.Millisecond)
	got, ok := c.Get(nil, key)
	require.True(t, ok, "Touch extended the head and every chunk")
	require.Equal(t, value, got)
	clock.Advance(200 * time.Millisecond)
	_, ok = c.Get(nil, key)
	require.False(t, ok, "expired")
}

// Evicted chunks make a miss, never a wrong or short value.
func TestALargeValueWithEvictedChunksMisses(t *testing.T) {
	c, _ := chunkingCache(t, ringcache.Config{})
	values := map[string][]byte{}
	for i := range 200 {
		key := fmt.Sprintf("doc-%d", i)
		values[key] = randomBytes(uint64(i), 100<<10+i)
		require.NoError(t, c.Set([]byte(key), values[key]))
	}
	hits := 0
	for key, want := range values {
		if got, ok := c.Get(nil, []byte(key)); ok {
			require.Equal(t, want, got)
			hits++
		}
	}
	require.Positive(t, hits)
	require.Less(t, hits, len(values), "20 MB into 8 MiB: most were evicted")
	require.NoError(t, c.Check())
}

func TestGetOrLoadStoresALargeValueInChunks(t *testing.T) {
	c, _ := chunkingCache(t, ringcache.Config{})
	value := randomBytes(4, 400<<10)
	loads := 0
	load := func(context.Context, []byte) ([]byte, time.Duration, error) {
		loads++
		return value, time.Minute, nil
	}
	for range 3 {
		got, err := c.GetOrLoad(context.Background(), nil, []byte("report"), load)
		require.NoError(t, err)
		require.Equal(t, value, got)
	}
	require.Equal(t, 1, loads)

	// Writes win over a large load too.
	release := make(chan struct{})
	started := make(chan struct{})
	slow := func(context.Context, []byte) ([]byte, time.Duration, error) {
		close(started)
		<-release
		return value, time.Minute, nil
	}
	done := make(chan error)
	go func() {
		_, err := c.GetOrLoad(context.Background(), nil, []byte("other"), slow)
		done <- err
	}()
	<-started
	c.Delete([]byte("other"))
	close(release)
	require.NoError(t, <-done)
	require.False(t, c.Has([]byte("other")), "a load that a Delete overtook stores nothing")
	require.NoError(t, c.Check())
}
