package ringcache_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// checkLimitsExact asserts that c stores every key of up to MaxKeySize
// bytes with a value bringing the sum to MaxEntrySize, through Set and
// through a load, and refuses one byte more.
func checkLimitsExact(t *testing.T, c *ringcache.Cache, keyLens []int) {
	t.Helper()
	most, longest := c.MaxEntrySize(), c.MaxKeySize()
	require.LessOrEqual(t, longest, ringcache.MaxKeyLen)
	buf := make([]byte, most+1)
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	for _, k := range keyLens {
		if k > longest || k > most {
			continue
		}
		key := make([]byte, k)
		for i := range key {
			key[i] = byte('a' + i%26)
		}
		if k > 0 {
			key[0] = 'S'
		}
		value := buf[:most-k]
		require.NoError(t, c.Set(key, value), "key %d + value %d, the limit %d", k, len(value), most)
		got, ok := c.Get(nil, key)
		require.True(t, ok, "key %d + value %d", k, len(value))
		require.Equal(t, value, got)
		require.ErrorIs(t, c.Set(key, buf[:most-k+1]), ringcache.ErrEntryTooLarge, "key %d, one byte over", k)

		if k > 0 {
			key[0] = 'L'
		}
		got, err := c.GetOrLoad(context.Background(), nil, key, func(context.Context, []byte) ([]byte, time.Duration, error) {
			return value, 0, nil
		})
		require.NoError(t, err, "a loaded key %d + value %d", k, len(value))
		require.Equal(t, value, got)
		got, ok = c.Get(nil, key)
		require.True(t, ok, "the loaded key %d + value %d is stored", k, len(value))
		require.Equal(t, value, got)
		require.NoError(t, c.Check())
	}
	tooLong := make([]byte, longest+1)
	require.ErrorIs(t, c.Set(tooLong, nil), ringcache.ErrKeyTooLarge)
	_, err := c.GetOrLoad(context.Background(), nil, tooLong, func(context.Context, []byte) ([]byte, time.Duration, error) {
		t.Fatal("a key the cache cannot store is not loaded")
		return nil, 0, nil
	})
	require.ErrorIs(t, err, ringcache.ErrKeyTooLarge)
}

func TestMaxEntrySizeIsExact(t *testing.T) {
	cases := []struct {
		capacity int64
		shards   int
	}{
		{ringcache.MinCapacity, 0}, {ringcache.MinCapacity, 2}, {5000, 4}, {64 << 10, 0}, {64 << 10, 16},
		{1 << 20, 0}, {1 << 20, 1}, {8 << 20, 64}, {64 << 20, 0},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d bytes, %d shards", tc.capacity, tc.shards), func(t *testing.T) {
			c := newCache(t, ringcache.Config{Capacity: tc.capacity, Shards: tc.shards, Seed: 1})
			longest := c.MaxKeySize()
			checkLimitsExact(t, c, []int{0, 1, 13, 202, longest / 2, longest - 1, longest})
		})
	}
}
