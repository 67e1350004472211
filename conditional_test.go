package ringcache_test

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/ttl"
)

func TestSetIfAbsent(t *testing.T) {
	clock := ttl.NewManualClock()
	c := newCache(t, ringcache.Config{Capacity: 1 << 20, Clock: clock, NegativeTTL: time.Hour})
	k := []byte("k")
	ok, err := c.SetIfAbsent(k, []byte("first"), 0)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = c.SetIfAbsent(k, []byte("second"), 0)
	require.NoError(t, err)
	require.False(t, ok)
	require.Equal(t, "first", mustGet(t, c, "k"))

	c.Delete(k)
	ok, _ = c.SetIfAbsent(k, []byte("after delete"), time.Second)
	require.True(t, ok)
	clock.Advance(2 * time.Second)
	ok, _ = c.SetIfAbsent(k, []byte("after expiry"), 0)
	require.True(t, ok, "an expired entry is absent")
	require.Equal(t, "after expiry", mustGet(t, c, "k"))

	_, err = c.GetOrLoad(context.Background(), nil, []byte("none"), func(context.Context, []byte) ([]byte, time.Duration, error) {
		return nil, 0, ringcache.ErrNotFound
	})
	require.ErrorIs(t, err, ringcache.ErrNotFound)
	ok, _ = c.SetIfAbsent([]byte("none"), []byte("now it exists"), 0)
	require.True(t, ok, "a tombstone is not a value")
	require.Equal(t, "now it exists", mustGet(t, c, "none"))

	_, err = c.SetIfAbsent(k, nil, -1)
	require.ErrorIs(t, err, ringcache.ErrInvalidTTL)
	_, err = c.SetIfAbsent(k, make([]byte, c.MaxEntrySize()), 0)
	require.ErrorIs(t, err, ringcache.ErrEntryTooLarge)
	require.NoError(t, c.Check())
}

// Of concurrent SetIfAbsent calls of one key, exactly one stores, and its
// value is the one that stays.
func TestSetIfAbsentOneWinner(t *testing.T) {
	c := newCache(t, ringcache.Config{Capacity: 1 << 20})
	for round := range 50 {
		k := []byte("race:" + strconv.Itoa(round))
		var winners atomic.Int32
		var winner atomic.Value
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := "from " + strconv.Itoa(g)
				if ok, err := c.SetIfAbsent(k, []byte(v), 0); err == nil && ok {
					winners.Add(1)
					winner.Store(v)
				}
			}()
		}
		wg.Wait()
		require.EqualValues(t, 1, winners.Load())
		require.Equal(t, winner.Load(), mustGet(t, c, string(k)))
	}
}

func TestSetIfNewer(t *testing.T) {
	clock := ttl.NewManualClock()
	c := newCache(t, ringcache.Config{Capacity: 1 << 20, Clock: clock, Compression: ringcache.Compression{Codec: ringcache.S2, MinSize: 1}})
	k := []byte("row:7")
	_, ok := c.Version(k)
	require.False(t, ok)
	for _, step := range []struct {
		version uint64
		stored  bool
		value   string
	}{{5, true, "v5"}, {3, false, "v5"}, {5, false, "v5"}, {7, true, "v7"}} {
		ok, err := c.SetIfNewer(k, []byte("value "+strconv.FormatUint(step.version, 10)), step.version, 0)
		require.NoError(t, err)
		require.Equal(t, step.stored, ok, "version %d", step.version)
		v, ok := c.Version(k)
		require.True(t, ok)
		require.Equal(t, "value "+step.value[1:], mustGet(t, c, "row:7"))
		require.EqualValues(t, step.value[1:], strconv.FormatUint(v, 10))
	}
	got, ok := c.Get([]byte("prefix "), k)
	require.True(t, ok)
	require.Equal(t, "prefix value 7", string(got), "Get sees the value, not the version")
	var seen string
	require.True(t, c.GetFunc(k, func(v []byte) { seen = string(v) }))
	require.Equal(t, "value 7", seen)

	require.NoError(t, c.Set(k, []byte("plain")))
	_, ok = c.Version(k)
	require.False(t, ok, "a plain Set carries no version")
	ok, _ = c.SetIfNewer(k, []byte("value 1"), 1, time.Second)
	require.True(t, ok, "any version is newer than none")
	clock.Advance(2 * time.Second)
	_, ok = c.Version(k)
	require.False(t, ok, "expired")
	ok, _ = c.SetIfNewer(k, []byte("value 0"), 0, 0)
	require.True(t, ok, "an expired entry's version does not count")
	require.NoError(t, c.Check())
}

// Versions arriving in any order from many writers leave the newest.
func TestSetIfNewerKeepsTheNewestUnderRaces(t *testing.T) {
	c := newCache(t, ringcache.Config{Capacity: 1 << 20})
	k := []byte("stream")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				v := uint64(i*8 + g)
				_, err := c.SetIfNewer(k, []byte(strconv.FormatUint(v, 10)), v, 0)
				require.NoError(t, err)
			}
		}()
	}
	wg.Wait()
	v, ok := c.Version(k)
	require.True(t, ok)
	require.EqualValues(t, 199*8+7, v)
	require.Equal(t, strconv.FormatUint(v, 10), mustGet(t, c, "stream"))
}

func TestConditionalWritesAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	c := newCache(t, ringcache.Config{Capacity: 1 << 20})
	k, value := []byte("key"), []byte("value")
	version := uint64(0)
	allocs := testing.AllocsPerRun(1000, func() {
		_, _ = c.SetIfAbsent(k, value, 0)
		version++
		_, _ = c.SetIfNewer(k, value, version, 0)
		_, _ = c.Version(k)
	})
	require.Zero(t, allocs)
}
