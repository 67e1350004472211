package ringcache_test

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// collect ranges over c.All, copying what it yields, and fails on a key
// yielded twice.
func collect(t *testing.T, c *ringcache.Cache) map[string]string {
	t.Helper()
	got := map[string]string{}
	for k, v := range c.All() {
		_, dup := got[string(k)]
		require.False(t, dup, "key %q yielded twice", k)
		got[string(k)] = string(v)
	}
	return got
}

func keysOf(c *ringcache.Cache) map[string]bool {
	got := map[string]bool{}
	for k := range c.Keys() {
		got[string(k)] = true
	}
	return got
}

// All yields what Get returns, and nothing else: plain, compressed and
// chunked values; not expired entries, tombstones, stale values kept for
// the loading layer, or the chunks of a chunked value.
func TestAllYieldsWhatReadsReturn(t *testing.T) {
	for name, codec := range map[string]ringcache.Codec{"plain": ringcache.NoCompression, "s2": ringcache.S2} {
		t.Run(name, func(t *testing.T) {
			c, clock := chunkingCache(t, ringcache.Config{
				Compression: ringcache.Compression{Codec: codec, MinSize: 64},
				NegativeTTL: time.Hour, StaleGrace: time.Hour,
			})
			want := map[string]string{}
			for i := range 200 {
				k, v := "k"+strconv.Itoa(i), fmt.Sprintf("value %d %s", i, bytes.Repeat([]byte("x"), i))
				require.NoError(t, c.Set([]byte(k), []byte(v)))
				want[k] = v
			}
			big := string(bytes.Repeat([]byte("<tr><td>row</td></tr>\n"), 300<<10/22))
			require.NoError(t, c.Set([]byte("big"), []byte(big)))
			want["big"] = big
			require.NoError(t, c.SetWithTTL([]byte("short"), []byte("gone soon"), time.Second))
			require.NoError(t, c.Set([]byte("deleted"), []byte("v")))
			c.Delete([]byte("deleted"))
			ctx := context.Background()
			_, err := c.GetOrLoad(ctx, nil, []byte("missing"), func(context.Context, []byte) ([]byte, time.Duration, error) {
				return nil, 0, ringcache.ErrNotFound
			})
			require.ErrorIs(t, err, ringcache.ErrNotFound)
			_, err = c.GetOrLoad(ctx, nil, []byte("loaded"), func(context.Context, []byte) ([]byte, time.Duration, error) {
				return []byte("for a second"), time.Second, nil
			})
			require.NoError(t, err)

			all := map[string]string{"short": "gone soon", "loaded": "for a second"}
			for k, v := range want {
				all[k] = v
			}
			require.Equal(t, all, collect(t, c))
			keys := keysOf(c)
			require.Len(t, keys, len(all))
			for k := range all {
				require.True(t, keys[k], k)
			}

			clock.Advance(2 * time.Second) // "short" expires, "loaded" goes stale
			require.Equal(t, want, collect(t, c))
			require.Len(t, keysOf(c), len(want))
			require.NoError(t, c.Check())
		})
	}
}

// The loop body may call the cache, and a break stops the iteration.
func TestAllBodyMayUseTheCache(t *testing.T) {
	c := newCache(t, ringcache.Config{Capacity: 1 << 20})
	for i := range 500 {
		require.NoError(t, c.Set([]byte("k"+strconv.Itoa(i)), []byte("v"+strconv.Itoa(i))))
	}
	seen := 0
	for k, v := range c.All() {
		got, ok := c.Get(nil, k)
		require.True(t, ok)
		require.Equal(t, v, got)
		require.NoError(t, c.Set(k, append([]byte("new "), v...)))
		require.True(t, c.Delete(k))
		seen++
	}
	require.Equal(t, 500, seen)
	require.Zero(t, c.Len())

	require.NoError(t, c.Set([]byte("a"), []byte("1")))
	require.NoError(t, c.Set([]byte("b"), []byte("2")))
	n := 0
	for range c.Keys() {
		n++
		break
	}
	require.Equal(t, 1, n)
	require.NoError(t, c.Close())
	require.Empty(t, collect(t, c), "a closed cache has no entries")
}

// Under concurrent writers, every entry left alone for the whole
// iteration is yielded exactly once, with its value.
func TestAllIsWeaklyConsistentUnderWriters(t *testing.T) {
	c := newCache(t, ringcache.Config{Capacity: 4 << 20})
	for i := range 2000 {
		require.NoError(t, c.Set([]byte("stable:"+strconv.Itoa(i)), []byte("s"+strconv.Itoa(i))))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; !stop.Load(); i++ {
				k := []byte("churn:" + strconv.Itoa(g) + ":" + strconv.Itoa(i%300))
				if i%3 == 0 {
					c.Delete(k)
				} else {
					_ = c.Set(k, bytes.Repeat([]byte{byte(i)}, i%200))
				}
			}
		}()
	}
	for range 20 {
		stable := 0
		for k, v := range c.All() {
			if name, ok := bytes.CutPrefix(k, []byte("stable:")); ok {
				require.Equal(t, "s"+string(name), string(v))
				stable++
			}
		}
		require.Equal(t, 2000, stable)
	}
	stop.Store(true)
	wg.Wait()
	require.NoError(t, c.Check())
}

// An iteration allocates its buffers, not a thing per entry: ten times the
// entries cost no more allocations.
func TestIterationAllocatesPerRunNotPerEntry(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	allocs := func(entries int) float64 {
		c := newCache(t, ringcache.Config{Capacity: 8 << 20, Shards: 16})
		for i := range entries {
			require.NoError(t, c.Set([]byte("key:"+strconv.Itoa(i)), []byte("value:"+strconv.Itoa(i))))
		}
		n := 0
		return testing.AllocsPerRun(5, func() {
			for range c.All() {
				n++
			}
			for range c.Keys() {
				n++
			}
		})
	}
	few, many := allocs(1000), allocs(10_000)
	require.LessOrEqual(t, many, few+2, "allocations grow with the entries: %v for 1,000, %v for 10,000", few, many)
	require.LessOrEqual(t, many, 40.0)
	t.Logf("allocations per iteration of All and Keys: %v over 1,000 entries, %v over 10,000", few, many)
}
