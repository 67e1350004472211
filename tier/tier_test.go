package tier

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

func TestGetOrLoadFillsBothTiers(t *testing.T) {
	onEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		src := newSource()
		a, other := newTier(t, testConfig(b)), newTier(t, testConfig(b))
		keys := newKeys("fill", 20)
		for _, key := range keys {
			want := encodeVersion(key, 0)
			got, err := a.GetOrLoad(ctx, nil, key, src.load)
			require.NoError(t, err)
			require.Equal(t, want, got)
			inRedis, ok := redisGet(t, b, key)
			require.True(t, ok)
			require.Equal(t, string(want), inRedis)

			got, err = other.GetOrLoad(ctx, []byte("prefix:"), key, src.load)
			require.NoError(t, err)
			require.Equal(t, "prefix:"+string(want), string(got), "another instance reads Redis, appending to dst")
			got, err = other.GetOrLoad(ctx, nil, key, src.load)
			require.NoError(t, err)
			require.Equal(t, want, got)
		}
		require.EqualValues(t, 20, src.loads.Load(), "one load per key across both instances")
		for _, key := range keys {
			got, err := a.GetOrLoad(ctx, nil, key, src.load)
			require.NoError(t, err)
			require.Equal(t, encodeVersion(key, 0), got)
		}
		sa, so := a.Stats(), other.Stats()
		assert.EqualValues(t, 20, sa.Loads)
		assert.EqualValues(t, 20, sa.RedisMisses)
		assert.EqualValues(t, 20, so.RedisHits)
		assert.EqualValues(t, 20, so.Local.Hits, "the second read in the other instance is local")
		assert.EqualValues(t, 20, sa.Local.Hits, "the loading instance keeps what it loaded")
		assert.Zero(t, sa.RedisHits)
	})
}

func TestLocalHitAllocatesNothing(t *testing.T) {
	b := standaloneBackend(t)
	tr := newTier(t, testConfig(b))
	src := newSource()
	load := src.load // a method value made once: making it per call allocates
	ctx := context.Background()
	key := newKeys("alloc", 1)[0]
	dst := make([]byte, 0, 256)
	_, err := tr.GetOrLoad(ctx, dst, key, load)
	require.NoError(t, err)
	want := encodeVersion(key, 0)
	allocs := testing.AllocsPerRun(1000, func() {
		got, err := tr.GetOrLoad(ctx, dst, key, load)
		if err != nil || !bytes.Equal(got, want) {
			panic("local hit lost its value")
		}
	})
	require.Zero(t, allocs)
	require.EqualValues(t, 1, src.loads.Load())
}

func TestBadInput(t *testing.T) {
	b := standaloneBackend(t)
	tr := newTier(t, testConfig(b))
	ctx := context.Background()
	src := newSource()
	long := bytes.Repeat([]byte("k"), ringcache.MaxKeyLen+1)
	reserved := []byte(ReservedPrefix + "lock:x")
	cases := []struct {
		name string
		err  error
		want error
	}{
		{"nil loader", func() error { _, err := tr.GetOrLoad(ctx, nil, []byte("k"), nil); return err }(), ringcache.ErrNilLoader},
		{"long key GetOrLoad", func() error { _, err := tr.GetOrLoad(ctx, nil, long, src.load); return err }(), ringcache.ErrKeyTooLarge},
		{"long key Set", tr.Set(ctx, long, []byte("v"), 0), ringcache.ErrKeyTooLarge},
		{"long key Invalidate", tr.Invalidate(ctx, []byte("a"), long), ringcache.ErrKeyTooLarge},
		{"no keys", tr.Invalidate(ctx), ErrNoKeys},
		{"negative TTL", tr.Set(ctx, []byte("k"), []byte("v"), -time.Second), ringcache.ErrInvalidTTL},
		{"reserved value", tr.Set(ctx, []byte("k"), reserved, 0), ErrReservedValue},
		{"loader returns reserved value", func() error {
			_, err := tr.GetOrLoad(ctx, nil, newKeys("reserved", 1)[0], func(context.Context, []byte) ([]byte, time.Duration, error) {
				return reserved, 0, nil
			})
			return err
		}(), ErrReservedValue},
		{"loader returns negative TTL", func() error {
			_, err := tr.GetOrLoad(ctx, nil, newKeys("negttl", 1)[0], func(context.Context, []byte) ([]byte, time.Duration, error) {
				return []byte("v"), -time.Second, nil
			})
			return err
		}(), ringcache.ErrInvalidTTL},
	}
	for _, c := range cases {
		assert.ErrorIs(t, c.err, c.want, c.name)
	}
	require.Zero(t, src.loads.Load(), "bad input never reaches the loader")
	_, ok := redisGet(t, b, []byte("k"))
	require.False(t, ok, "a rejected Set writes nothing")
}

func TestClosed(t *testing.T) {
	b := standaloneBackend(t)
	tr, err := New(testConfig(b))
	require.NoError(t, err)
	require.NoError(t, tr.Close())
	ctx := context.Background()
	_, err = tr.GetOrLoad(ctx, nil, []byte("k"), newSource().load)
	assert.ErrorIs(t, err, ringcache.ErrClosed)
	assert.ErrorIs(t, tr.Set(ctx, []byte("k"), []byte("v"), 0), ringcache.ErrClosed)
	assert.ErrorIs(t, tr.Invalidate(ctx, []byte("k")), ringcache.ErrClosed)
	assert.ErrorIs(t, tr.Close(), ringcache.ErrClosed)
}

func TestNewRejectsBadConfig(t *testing.T) {
	b := standaloneBackend(t)
	for name, c := range map[string]struct {
		mod  func(*Config)
		want error
	}{
		"no address":        {func(c *Config) { c.Redis.InitAddress = nil }, ErrInvalidConfig},
		"negative TTL":      {func(c *Config) { c.TTL = -1 }, ringcache.ErrInvalidTTL},
		"negative lock":     {func(c *Config) { c.LockTTL = -1 }, ringcache.ErrInvalidTTL},
		"tiny lock":         {func(c *Config) { c.LockTTL = time.Millisecond }, ErrInvalidConfig},
		"negative breaker":  {func(c *Config) { c.Breaker.Failures = -1 }, ErrInvalidConfig},
		"two negative TTLs": {func(c *Config) { c.NegativeTTL, c.Local.NegativeTTL = time.Second, time.Minute }, ErrInvalidConfig},
		"no capacity":       {func(c *Config) { c.Local.Capacity = 0 }, ringcache.ErrInvalidCapacity},
		"tiny lease":        {func(c *Config) { c.Lease = time.Millisecond }, ErrInvalidConfig},
		"negative lease":    {func(c *Config) { c.Lease = -1 }, ringcache.ErrInvalidTTL},
	} {
		cfg := testConfig(b)
		c.mod(&cfg)
		_, err := New(cfg)
		assert.ErrorIs(t, err, c.want, name)
	}
}
