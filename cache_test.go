package ringcache_test

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/ttl"
)

func newCache(t testing.TB, cfg ringcache.Config) *ringcache.Cache {
	t.Helper()
	c, err := ringcache.New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// manualCache returns a 1 MiB cache on a clock the test moves.
func manualCache(t testing.TB) (*ringcache.Cache, *ttl.Clock) {
	clock := ttl.NewManualClock()
	return newCache(t, ringcache.Config{Capacity: 1 << 20, Clock: clock}), clock
}

func mustGet(t *testing.T, c *ringcache.Cache, key string) string {
	t.Helper()
	v, ok := c.Get(nil, []byte(key))
	require.True(t, ok, "key %q missing", key)
	return string(v)
}

func TestSetGetReturnsExactBytes(t *testing.T) {
	// One shard of 4 MiB admits the longest key.
	c := newCache(t, ringcache.Config{Capacity: 4 << 20, Shards: 1})
	binary := make([]byte, 256)
	for i := range binary {
		binary[i] = byte(i)
	}
	for _, tc := range []struct {
		name       string
		key, value []byte
	}{
		{"plain", []byte("user:42"), []byte("alice")},
		{"empty key is a key", []byte{}, []byte("the empty key's value")},
		{"empty value", []byte("empty"), []byte{}},
		{"binary with zero bytes", []byte{0, 0, 1}, binary},
		{"longest key", bytes.Repeat([]byte("k"), ringcache.MaxKeyLen), []byte("v")},
		{"largest entry", []byte("big"), bytes.Repeat([]byte("v"), c.MaxEntrySize()-3)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, c.Set(tc.key, tc.value))
			got, ok := c.Get(nil, tc.key)
			require.True(t, ok)
			require.True(t, bytes.Equal(tc.value, got), "got %d bytes, want %d", len(got), len(tc.value))
			require.True(t, c.Has(tc.key))
			require.NoError(t, c.Check())
		})
	}
}

func TestGetAppendsToDst(t *testing.T) {
	c, _ := manualCache(t)
	require.NoError(t, c.Set([]byte("k"), []byte("value")))
	dst := []byte("prefix:")
	got, ok := c.Get(dst, []byte("k"))
	require.True(t, ok)
	require.Equal(t, "prefix:value", string(got))

	got, ok = c.Get(dst, []byte("absent"))
	require.False(t, ok)
	require.Equal(t, "prefix:", string(got), "a miss returns dst unchanged")
}

func TestCallerMayReuseSlicesAfterSet(t *testing.T) {
	c, _ := manualCache(t)
	key, value := []byte("key"), []byte("value")
	require.NoError(t, c.Set(key, value))
	copy(value, "XXXXX")
	require.Equal(t, "value", mustGet(t, c, "key"), "the cache must copy the value")
	got, _ := c.Get(nil, key)
	got[0] = 'Z'
	require.Equal(t, "value", mustGet(t, c, "key"), "Get must return a copy")
}

func TestGetFunc(t *testing.T) {
	c, _ := manualCache(t)
	require.NoError(t, c.Set([]byte("k"), []byte("view me")))
	var seen string
	require.True(t, c.GetFunc([]byte("k"), func(v []byte) { seen = string(v) }))
	require.Equal(t, "view me", seen)
	require.False(t, c.GetFunc([]byte("absent"), func([]byte) { t.Fatal("called on a miss") }))
	require.True(t, c.GetFunc([]byte("k"), nil), "a nil callback is a lookup")
	st := c.Stats()
	require.Equal(t, uint64(2), st.Hits)
	require.Equal(t, uint64(1), st.Misses)
}

func TestOverwriteAndDeleteAreVisibleAtOnce(t *testing.T) {
	c, _ := manualCache(t)
	require.NoError(t, c.Set([]byte("k"), []byte("first, long value")))
	for _, v := range []string{"short", "a much longer value that cannot fit the old room", "", "x"} {
		require.NoError(t, c.Set([]byte("k"), []byte(v)))
		// Read from another goroutine: the write happened before it started.
		got := make(chan string)
		go func() { v, _ := c.Get(nil, []byte("k")); got <- string(v) }()
		require.Equal(t, v, <-got)
		require.NoError(t, c.Check())
	}
	require.True(t, c.Delete([]byte("k")))
	require.False(t, c.Delete([]byte("k")), "a second delete finds nothing")
	gone := make(chan bool)
	go func() { gone <- !c.Has([]byte("k")) }()
	require.True(t, <-gone)
	st := c.Stats()
	require.Equal(t, uint64(5), st.Sets)
	require.Equal(t, uint64(4), st.Overwrites)
	require.Equal(t, uint64(1), st.Deletes)
	require.Equal(t, uint64(0), st.Entries)
	require.Equal(t, 0, c.Len())
}

func TestExpiry(t *testing.T) {
	c, clock := manualCache(t)
	require.NoError(t, c.SetWithTTL([]byte("k"), []byte("v"), 10*time.Millisecond))
	require.NoError(t, c.SetWithTTL([]byte("forever"), []byte("v"), 0))

	d, ok := c.TTL([]byte("k"))
	require.True(t, ok)
	require.Equal(t, 10*time.Millisecond, d)
	d, ok = c.TTL([]byte("forever"))
	require.True(t, ok)
	require.Zero(t, d, "zero TTL with true means no expiry")

	clock.Advance(9 * time.Millisecond)
	require.Equal(t, "v", mustGet(t, c, "k"))
	clock.Advance(time.Millisecond)
	for name, read := range map[string]func() bool{
		"Get":     func() bool { _, ok := c.Get(nil, []byte("k")); return ok },
		"GetFunc": func() bool { return c.GetFunc([]byte("k"), func([]byte) { t.Fatal("expired value served") }) },
		"Has":     func() bool { return c.Has([]byte("k")) },
		"TTL":     func() bool { _, ok := c.TTL([]byte("k")); return ok },
		"Touch":   func() bool { return c.Touch([]byte("k"), time.Hour) },
		"Delete":  func() bool { return c.Delete([]byte("k")) },
	} {
		require.False(t, read(), "%s saw an expired entry", name)
	}
	require.Equal(t, "v", mustGet(t, c, "forever"))
	require.Equal(t, uint64(1), c.Stats().Expirations)
	require.NoError(t, c.Check())
}

func TestDefaultTTLAndTouch(t *testing.T) {
	clock := ttl.NewManualClock()
	c := newCache(t, ringcache.Config{Capacity: 1 << 20, Clock: clock, DefaultTTL: time.Second})
	require.NoError(t, c.Set([]byte("k"), []byte("v")))
	d, _ := c.TTL([]byte("k"))
	require.Equal(t, time.Second, d)

	clock.Advance(900 * time.Millisecond)
	require.True(t, c.Touch([]byte("k"), time.Second))
	clock.Advance(900 * time.Millisecond)
	require.Equal(t, "v", mustGet(t, c, "k"), "Touch must extend the life")

	require.False(t, c.Touch([]byte("k"), -time.Second), "a negative TTL changes nothing")
	require.True(t, c.Touch([]byte("k"), 0))
	clock.Advance(time.Hour)
	d, ok := c.TTL([]byte("k"))
	require.True(t, ok)
	require.Zero(t, d, "Touch with 0 removes the expiry")
	require.False(t, c.Touch([]byte("absent"), time.Second))
}

func TestOverwriteResetsTTL(t *testing.T) {
	c, clock := manualCache(t)
	require.NoError(t, c.SetWithTTL([]byte("k"), []byte("old"), 5*time.Millisecond))
	require.NoError(t, c.SetWithTTL([]byte("k"), []byte("new"), 0))
	clock.Advance(time.Second)
	require.Equal(t, "new", mustGet(t, c, "k"))
}

func TestBadInputGetsTypedErrors(t *testing.T) {
	c, _ := manualCache(t)
	max := c.MaxEntrySize()
	for _, tc := range []struct {
		name  string
		set   func() error
		want  error
		stays bool
	}{
		{"negative TTL", func() error { return c.SetWithTTL([]byte("k"), []byte("v"), -time.Nanosecond) }, ringcache.ErrInvalidTTL, true},
		{"key too large", func() error { return c.Set(make([]byte, ringcache.MaxKeyLen+1), nil) }, ringcache.ErrKeyTooLarge, true},
		{"entry one byte too large", func() error { return c.Set([]byte("k"), make([]byte, max)) }, ringcache.ErrEntryTooLarge, true},
		{"huge value", func() error { return c.Set([]byte("k"), make([]byte, 32<<20)) }, ringcache.ErrEntryTooLarge, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.NoError(t, c.Set([]byte("k"), []byte("before")))
			require.ErrorIs(t, tc.set(), tc.want)
			require.Equal(t, "before", mustGet(t, c, "k"), "a failed Set must leave the old value")
		})
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  ringcache.Config
		want error
	}{
		{"zero capacity", ringcache.Config{}, ringcache.ErrInvalidCapacity},
		{"negative capacity", ringcache.Config{Capacity: -1}, ringcache.ErrInvalidCapacity},
		{"below minimum", ringcache.Config{Capacity: ringcache.MinCapacity - 1}, ringcache.ErrInvalidCapacity},
		{"absurd capacity", ringcache.Config{Capacity: ringcache.MaxCapacity + 1}, ringcache.ErrInvalidCapacity},
		{"shards not a power of two", ringcache.Config{Capacity: 1 << 20, Shards: 3}, ringcache.ErrInvalidConfig},
		{"negative shards", ringcache.Config{Capacity: 1 << 20, Shards: -4}, ringcache.ErrInvalidConfig},
		{"too many shards", ringcache.Config{Capacity: 1 << 20, Shards: 1 << 17}, ringcache.ErrInvalidConfig},
		{"shards too small", ringcache.Config{Capacity: 1 << 20, Shards: 4096}, ringcache.ErrInvalidConfig},
		{"shard over 4 GiB", ringcache.Config{Capacity: 8 << 30, Shards: 1}, ringcache.ErrInvalidConfig},
		{"negative default TTL", ringcache.Config{Capacity: 1 << 20, DefaultTTL: -time.Second}, ringcache.ErrInvalidTTL},
		{"negative entry size hint", ringcache.Config{Capacity: 1 << 20, AvgEntrySize: -1}, ringcache.ErrInvalidConfig},
		{"unknown policy", ringcache.Config{Capacity: 1 << 20, Policy: 7}, ringcache.ErrInvalidConfig},
		{"K too large", ringcache.Config{Capacity: 1 << 20, K: 16}, ringcache.ErrInvalidConfig},
		{"negative K", ringcache.Config{Capacity: 1 << 20, K: -1}, ringcache.ErrInvalidConfig},
		{"negative NegativeTTL", ringcache.Config{Capacity: 1 << 20, NegativeTTL: -1}, ringcache.ErrInvalidTTL},
		{"negative ErrorTTL", ringcache.Config{Capacity: 1 << 20, ErrorTTL: -1}, ringcache.ErrInvalidTTL},
		{"negative StaleGrace", ringcache.Config{Capacity: 1 << 20, StaleGrace: -1}, ringcache.ErrInvalidTTL},
		{"negative RefreshTimeout", ringcache.Config{Capacity: 1 << 20, RefreshTimeout: -1}, ringcache.ErrInvalidTTL},
		{"adaptive min of zero would never expire", ringcache.Config{Capacity: 1 << 20, AdaptiveTTL: ringcache.AdaptiveTTL{Max: time.Minute}}, ringcache.ErrInvalidTTL},
		{"adaptive min above max", ringcache.Config{Capacity: 1 << 20, AdaptiveTTL: ringcache.AdaptiveTTL{Min: 2 * time.Second, Max: time.Second}}, ringcache.ErrInvalidTTL},
		{"jitter of 1", ringcache.Config{Capacity: 1 << 20, TTLJitter: 1}, ringcache.ErrInvalidConfig},
		{"negative jitter", ringcache.Config{Capacity: 1 << 20, TTLJitter: -0.1}, ringcache.ErrInvalidConfig},
		{"refresh ahead of 1", ringcache.Config{Capacity: 1 << 20, RefreshAhead: 1}, ringcache.ErrInvalidConfig},
		{"negative refresh workers", ringcache.Config{Capacity: 1 << 20, RefreshWorkers: -1}, ringcache.ErrInvalidConfig},
		{"unknown codec", ringcache.Config{Capacity: 1 << 20, Compression: ringcache.Compression{Codec: 9}}, ringcache.ErrInvalidConfig},
		{"negative compression threshold", ringcache.Config{Capacity: 1 << 20, Compression: ringcache.Compression{Codec: ringcache.S2, MinSize: -1}}, ringcache.ErrInvalidConfig},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ringcache.New(tc.cfg)
			require.ErrorIs(t, err, tc.want)
			require.Nil(t, c)
		})
	}
}

func TestSmallestCachesStillCache(t *testing.T) {
	for _, capacity := range []int64{ringcache.MinCapacity, 64 << 10, 256 << 10} {
		t.Run(fmt.Sprint(capacity), func(t *testing.T) {
			c := newCache(t, ringcache.Config{Capacity: capacity})
			require.Greater(t, c.MaxEntrySize(), 512)
			for i := range 10 {
				require.NoError(t, c.Set([]byte(fmt.Sprint("k", i)), []byte(fmt.Sprint("v", i))))
			}
			for i := range 10 {
				require.Equal(t, fmt.Sprint("v", i), mustGet(t, c, fmt.Sprint("k", i)))
			}
		})
	}
}

func TestUseAfterClose(t *testing.T) {
	c, err := ringcache.New(ringcache.Config{Capacity: 1 << 20})
	require.NoError(t, err)
	require.NoError(t, c.Set([]byte("k"), []byte("v")))
	require.NoError(t, c.Close())

	require.ErrorIs(t, c.Close(), ringcache.ErrClosed)
	require.ErrorIs(t, c.Set([]byte("k"), []byte("v")), ringcache.ErrClosed)
	require.ErrorIs(t, c.SetWithTTL([]byte("k"), []byte("v"), time.Second), ringcache.ErrClosed)
	got, ok := c.Get([]byte("dst"), []byte("k"))
	require.False(t, ok)
	require.Equal(t, "dst", string(got))
	require.False(t, c.GetFunc([]byte("k"), func([]byte) { t.Fatal("called after Close") }))
	require.False(t, c.Has([]byte("k")))
	require.False(t, c.Delete([]byte("k")))
	require.False(t, c.Touch([]byte("k"), time.Second))
	_, ok = c.TTL([]byte("k"))
	require.False(t, ok)
	require.Zero(t, c.Len())
	c.Clear()
	require.Equal(t, uint64(1), c.Stats().Sets, "counters survive Close")
	require.NoError(t, c.Check())
}

func TestCloseWhileInUse(t *testing.T) {
	c, err := ringcache.New(ringcache.Config{Capacity: 1 << 20, Shards: 4})
	require.NoError(t, err)
	stop := make(chan struct{})
	done := make(chan error, 4)
	for g := range 4 {
		go func() {
			key := []byte(fmt.Sprint("key", g))
			for {
				select {
				case <-stop:
					done <- nil
					return
				default:
				}
				if err := c.Set(key, key); err != nil && !errors.Is(err, ringcache.ErrClosed) {
					done <- err
					return
				}
				if v, ok := c.Get(nil, key); ok && !bytes.Equal(v, key) {
					done <- fmt.Errorf("got %q for %q", v, key)
					return
				}
			}
		}()
	}
	time.Sleep(10 * time.Millisecond)
	require.NoError(t, c.Close())
	time.Sleep(10 * time.Millisecond)
	close(stop)
	for range 4 {
		require.NoError(t, <-done)
	}
}

func TestClear(t *testing.T) {
	c, _ := manualCache(t)
	for i := range 100 {
		require.NoError(t, c.Set([]byte(fmt.Sprint(i)), []byte("v")))
	}
	c.Clear()
	require.Zero(t, c.Len())
	require.Zero(t, c.Stats().BytesUsed)
	require.False(t, c.Has([]byte("5")))
	require.NoError(t, c.Check())
	require.NoError(t, c.Set([]byte("5"), []byte("after")))
	require.Equal(t, "after", mustGet(t, c, "5"))
}

func TestSecondChanceKeepsHotKeys(t *testing.T) {
	c := newCache(t, ringcache.Config{Capacity: 256 << 10, Shards: 1})
	hot := []byte("hot")
	require.NoError(t, c.Set(hot, []byte("hot value")))
	value := make([]byte, 128)
	for i := range 20000 {
		require.NoError(t, c.Set([]byte(fmt.Sprintf("cold-%08d", i)), value))
		_, ok := c.Get(nil, hot)
		require.True(t, ok, "hot key evicted after %d cold writes", i)
	}
	require.Positive(t, c.Stats().Evictions)
	require.NoError(t, c.Check())
}

func TestStatsCount(t *testing.T) {
	c, clock := manualCache(t)
	require.NoError(t, c.Set([]byte("a"), []byte("1")))
	require.NoError(t, c.SetWithTTL([]byte("b"), []byte("2"), time.Millisecond))
	require.NoError(t, c.Set([]byte("a"), []byte("3")))
	c.Get(nil, []byte("a"))
	c.Get(nil, []byte("zzz"))
	clock.Advance(time.Millisecond)
	c.Get(nil, []byte("b"))
	c.Delete([]byte("a"))
	require.Equal(t, ringcache.Stats{
		Hits: 1, Misses: 2, Sets: 3, Deletes: 1, Overwrites: 1, Expirations: 1,
		Admissions: 2, Capacity: 1 << 20,
	}, c.Stats())
}

func TestShardCountAdaptsToCapacity(t *testing.T) {
	// A small cache gets fewer shards so that entries of a few KiB fit.
	small := newCache(t, ringcache.Config{Capacity: 64 << 10})
	large := newCache(t, ringcache.Config{Capacity: 64 << 20})
	assert.GreaterOrEqual(t, small.MaxEntrySize(), 8<<10)
	assert.GreaterOrEqual(t, large.MaxEntrySize(), 32<<10)
	forced := newCache(t, ringcache.Config{Capacity: 64 << 20, Shards: 1})
	assert.Greater(t, forced.MaxEntrySize(), 8<<20, "one shard admits entries up to a quarter of the cache")
}
