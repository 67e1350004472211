package tier

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache/tier/redistest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// failingSource fails every load while down is set.
type failingSource struct {
	*source
	down atomic.Bool
}

var errDatabaseDown = errors.New("database down")

func (f *failingSource) load(ctx context.Context, key []byte) ([]byte, time.Duration, error) {
	if f.down.Load() {
		return nil, 0, errDatabaseDown
	}
	return f.source.load(ctx, key)
}

func TestRedisKilledAndBack(t *testing.T) {
	server := redistest.Start(t)
	b := backend{"own", []string{server.Addr}}
	cfg := testConfig(b)
	cfg.UntrackedTTL = 100 * time.Millisecond
	cfg.Local.StaleGrace = time.Minute
	cfg.RedisTimeout = 200 * time.Millisecond
	cfg.Breaker = Breaker{Failures: 3, Backoff: 300 * time.Millisecond}
	cfg.Redis.ConnWriteTimeout = 200 * time.Millisecond
	tr := newTier(t, cfg)
	ctx := context.Background()
	src := &failingSource{source: newSource()}
	load := src.load
	keys := newKeys("outage", 8)
	for _, key := range keys {
		_, err := tr.GetOrLoad(ctx, nil, key, load)
		require.NoError(t, err)
	}
	require.EqualValues(t, 8, tr.Stats().Local.Entries)

	// The server dies; the source changes while it is down. No copy from
	// before the break may be served: each read goes to the loader.
	server.Kill()
	for _, key := range keys {
		src.bump(key)
	}
	require.Eventually(t, func() bool { return tr.Stats().Resets > 0 }, 5*time.Second, time.Millisecond,
		"the broken connection clears the local tier")
	for _, key := range keys {
		got, err := tr.GetOrLoad(ctx, nil, key, load)
		require.NoError(t, err)
		require.Equal(t, encodeVersion(key, 1), got, "read through to the source while Redis is down")
	}
	s := tr.Stats()
	assert.EqualValues(t, 8, s.DirectLoads)
	assert.NotZero(t, s.RedisErrors)
	assert.NotZero(t, s.BreakerOpens, "repeated failures open the breaker: %+v", s)
	assert.NotZero(t, s.BreakerRejections, "the open breaker spares Redis: %+v", s)

	// Writes cannot reach other instances: they say so.
	assert.ErrorIs(t, tr.Invalidate(ctx, keys[0]), ErrUnavailable)
	assert.ErrorIs(t, tr.Set(ctx, keys[0], []byte("v"), 0), ErrUnavailable)

	// The untracked copies expire after UntrackedTTL; with the source down
	// too, StaleGrace serves them.
	time.Sleep(cfg.UntrackedTTL + 50*time.Millisecond)
	src.down.Store(true)
	got, err := tr.GetOrLoad(ctx, nil, keys[1], load)
	require.NoError(t, err)
	require.Equal(t, encodeVersion(keys[1], 1), got)
	assert.EqualValues(t, 1, tr.Stats().Local.StaleServed)
	src.down.Store(false)

	// Redis comes back, empty: after the breaker's backoff, loads go
	// through Redis again and the local tier keeps tracked copies.
	require.NoError(t, server.Restart())
	fresh := newKeys("after-outage", 1)[0]
	require.Eventually(t, func() bool {
		_, err := tr.GetOrLoad(ctx, nil, fresh, load)
		_, inRedis := redisGet(t, b, fresh)
		return err == nil && inRedis
	}, 10*time.Second, 50*time.Millisecond, "caching through Redis resumes without a restart")
	loads := src.loads.Load()
	got, err = tr.GetOrLoad(ctx, nil, fresh, load)
	require.NoError(t, err)
	require.Equal(t, encodeVersion(fresh, 0), got)
	require.Equal(t, loads, src.loads.Load(), "a local hit again")

	// And notices flow again: another instance's write reaches this one.
	other := newTier(t, testConfig(b))
	src.bump(fresh)
	require.NoError(t, other.Invalidate(ctx, fresh))
	require.Eventually(t, func() bool {
		got, err := tr.GetOrLoad(ctx, nil, fresh, load)
		return err == nil && string(got) == string(encodeVersion(fresh, 1))
	}, 2*time.Second, 5*time.Millisecond)
	t.Logf("%+v", tr.Stats())
}
