package ringcache_test

import (
	"bytes"
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/ttl"
)

type removal struct {
	key, value string
	cause      ringcache.RemovalCause
}

// recorder is a listener that keeps what it was told.
type recorder struct {
	mu  sync.Mutex
	got []removal
}

func (r *recorder) listen(key, value []byte, cause ringcache.RemovalCause) {
	r.mu.Lock()
	r.got = append(r.got, removal{string(key), string(value), cause})
	r.mu.Unlock()
}

func (r *recorder) take() []removal {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.got
	r.got = nil
	return out
}

func TestOnRemoveTellsEachCause(t *testing.T) {
	rec := &recorder{}
	clock := ttl.NewManualClock()
	c := newCache(t, ringcache.Config{Capacity: 1 << 20, Clock: clock, OnRemove: rec.listen})

	require.NoError(t, c.Set([]byte("a"), []byte("one")))
	require.NoError(t, c.Set([]byte("a"), []byte("two")))
	require.Equal(t, []removal{{"a", "one", ringcache.Replaced}}, rec.take())
	require.NoError(t, c.Set([]byte("a"), []byte("a longer value than before, not in place")))
	require.Equal(t, []removal{{"a", "two", ringcache.Replaced}}, rec.take())

	require.True(t, c.Delete([]byte("a")))
	require.Equal(t, []removal{{"a", "a longer value than before, not in place", ringcache.Deleted}}, rec.take())
	require.False(t, c.Delete([]byte("a")))
	require.Empty(t, rec.take(), "nothing to remove")

	require.NoError(t, c.SetWithTTL([]byte("t"), []byte("brief"), time.Second))
	clock.Advance(2 * time.Second)
	_, ok := c.Get(nil, []byte("t"))
	require.False(t, ok)
	require.Equal(t, []removal{{"t", "brief", ringcache.Expired}}, rec.take(), "reported when a read finds it")

	require.NoError(t, c.Set([]byte("x"), []byte("1")))
	require.NoError(t, c.Set([]byte("y"), []byte("2")))
	c.Clear()
	got := rec.take()
	require.ElementsMatch(t, []removal{{"x", "1", ringcache.Cleared}, {"y", "2", ringcache.Cleared}}, got)
	require.Equal(t, "cleared", got[0].cause.String())
	require.NoError(t, c.Check())
}

// Filling a small cache past its size reports each entry it evicts, once,
// with its value; entries still held are never reported.
func TestOnRemoveReportsEvictions(t *testing.T) {
	rec := &recorder{}
	c := newCache(t, ringcache.Config{Capacity: 256 << 10, Shards: 1, OnRemove: rec.listen})
	for i := range 20_000 {
		k := "k" + strconv.Itoa(i)
		require.NoError(t, c.Set([]byte(k), []byte("v"+k)))
	}
	gone := map[string]bool{}
	for _, r := range rec.take() {
		require.Equal(t, ringcache.Evicted, r.cause)
		require.Equal(t, "v"+r.key, r.value)
		require.False(t, gone[r.key], "%s reported twice", r.key)
		gone[r.key] = true
	}
	require.NotEmpty(t, gone)
	for i := range 20_000 {
		k := "k" + strconv.Itoa(i)
		_, held := c.Get(nil, []byte(k))
		require.NotEqual(t, held, gone[k], "%s: held %v, reported %v", k, held, gone[k])
	}
	require.EqualValues(t, len(gone), c.Stats().Evictions)
}

// The listener sees what a read returned: compressed values decompressed,
// chunked ones whole; never the loading layer's tombstones or the chunks.
func TestOnRemoveShowsValuesAsReadsDo(t *testing.T) {
	rec := &recorder{}
	c, _ := chunkingCache(t, ringcache.Config{
		Compression: ringcache.Compression{Codec: ringcache.S2, MinSize: 64},
		NegativeTTL: time.Hour, OnRemove: rec.listen,
	})
	small := string(bytes.Repeat([]byte("compress me "), 20))
	big := string(bytes.Repeat([]byte("<tr><td>row</td></tr>\n"), 300<<10/22))
	require.NoError(t, c.Set([]byte("small"), []byte(small)))
	require.NoError(t, c.Set([]byte("big"), []byte(big)))
	_, err := c.GetOrLoad(context.Background(), nil, []byte("none"), func(context.Context, []byte) ([]byte, time.Duration, error) {
		return nil, 0, ringcache.ErrNotFound
	})
	require.ErrorIs(t, err, ringcache.ErrNotFound)
	require.Empty(t, rec.take())

	c.Delete([]byte("small"))
	c.Delete([]byte("big"))
	c.Delete([]byte("none"))
	require.Equal(t, []removal{{"small", small, ringcache.Deleted}, {"big", big, ringcache.Deleted}}, rec.take())
	require.NoError(t, c.Check())
}

// The listener runs with no lock of the cache held: it may use the cache.
func TestOnRemoveMayUseTheCache(t *testing.T) {
	var c *ringcache.Cache
	var moved sync.Map
	c = newCache(t, ringcache.Config{Capacity: 1 << 20, OnRemove: func(key, value []byte, cause ringcache.RemovalCause) {
		if cause == ringcache.Deleted {
			require.NoError(t, c.Set(append([]byte("archived:"), key...), value))
			_, held := c.Get(nil, key)
			moved.Store(string(key), held)
		}
	}})
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				k := []byte(strconv.Itoa(g) + ":" + strconv.Itoa(i))
				require.NoError(t, c.Set(k, k))
				c.Delete(k)
			}
		}()
	}
	wg.Wait()
	for g := range 4 {
		for i := range 500 {
			k := strconv.Itoa(g) + ":" + strconv.Itoa(i)
			require.Equal(t, k, mustGet(t, c, "archived:"+k))
			held, _ := moved.Load(k)
			require.Equal(t, false, held)
		}
	}
	require.NoError(t, c.Check())
}

// With a listener that does nothing, an evicting Set allocates nothing.
func TestOnRemoveAllocatesNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	c := newCache(t, ringcache.Config{Capacity: 256 << 10, Shards: 1, OnRemove: func([]byte, []byte, ringcache.RemovalCause) {}})
	keys := make([][]byte, 50_000)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i))
	}
	value := make([]byte, 64)
	for _, k := range keys { // full, and every pool buffer grown
		require.NoError(t, c.Set(k, value))
	}
	i := 0
	allocs := testing.AllocsPerRun(10_000, func() {
		_ = c.Set(keys[i%len(keys)], value)
		i++
	})
	require.Zero(t, allocs)
	require.NotZero(t, c.Stats().Evictions)
}
