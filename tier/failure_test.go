package tier

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache/tier/redistest"
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
	// before the break may be served: each read goes to the loader. The
	// broken connection clears the local tier, and the lease's lapse
	// (which a reset before the kill cannot pass for) clears it again
	// and sends reads to the loader without trying Redis.
	lapses := tr.Stats().Lapses
	server.Kill()
	for _, key := range keys {
		src.bump(key)
	}
	require.Eventually(t, func() bool { return tr.Stats().Lapses > lapses }, 30*time.Second, time.Millisecond,
		"the silent Redis ends the lease")
	for _, key := range keys {
		got, err := tr.GetOrLoad(ctx, nil, key, load)
		require.NoError(t, err)
		require.Equal(t, encodeVersion(key, 1), got, "read through to the source while Redis is down")
	}
	s := tr.Stats()
	assert.EqualValues(t, 8, s.DirectLoads)

	// Writes cannot reach Redis: Invalidate queues its key, Set says its
	// value was not stored and queues its key too.
	require.NoError(t, tr.Invalidate(ctx, keys[0]))
	assert.ErrorIs(t, tr.Set(ctx, keys[2], []byte("v"), 0), ErrUnavailable)
	assert.Equal(t, 2, tr.Stats().Pending)

	// The untracked copies expire after UntrackedTTL; with the source down
	// too, StaleGrace serves them.
	time.Sleep(cfg.UntrackedTTL + 50*time.Millisecond)
	src.down.Store(true)
	got, err := tr.GetOrLoad(ctx, nil, keys[1], load)
	require.NoError(t, err)
	require.Equal(t, encodeVersion(keys[1], 1), got)
	assert.EqualValues(t, 1, tr.Stats().Local.StaleServed)
	src.down.Store(false)

	// Redis comes back, empty: once the heartbeat hears it, the queue is
	// delivered, loads go through Redis again and the local tier keeps
	// tracked copies.
	require.NoError(t, server.Restart())
	require.Eventually(t, func() bool { return tr.Stats().Recoveries > 0 }, 30*time.Second, time.Millisecond)
	assert.Zero(t, tr.Stats().Pending)
	assert.EqualValues(t, 2, tr.Stats().Delivered)
	fresh := newKeys("after-outage", 1)[0]
	require.Eventually(t, func() bool {
		_, err := tr.GetOrLoad(ctx, nil, fresh, load)
		_, inRedis := redisGet(t, b, fresh)
		return err == nil && inRedis
	}, 30*time.Second, 50*time.Millisecond, "caching through Redis resumes without a restart")
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
	}, 30*time.Second, 5*time.Millisecond)
	t.Logf("%+v", tr.Stats())
}

// One master of a cluster dies: the lease lapses and the local tier is
// cleared, its keys go to the loader, the others' keep being served
// through the live nodes (with local copies kept for UntrackedTTL only)
// and invalidated through them, and when it comes back (empty) the tier
// is up again and its keys are cached through Redis again.
func TestAClusterNodeKilledAndBack(t *testing.T) {
	redistest.Need(t)
	cluster, err := redistest.NewCluster(t.TempDir(), 3, "--cluster-require-full-coverage", "no")
	require.NoError(t, err)
	t.Cleanup(cluster.Stop)
	b := backend{"own cluster", cluster.Addrs}
	cfg := testConfig(b)
	cfg.UntrackedTTL = 100 * time.Millisecond
	cfg.RedisTimeout = 300 * time.Millisecond
	cfg.Breaker = Breaker{Failures: 3, Backoff: 300 * time.Millisecond}
	cfg.Redis.ConnWriteTimeout = 300 * time.Millisecond
	a, other := newTier(t, cfg), newTier(t, cfg)
	ctx := context.Background()
	src := newSource()
	load := src.load
	keys := newKeys("cluster-outage", 30)
	for _, key := range keys {
		_, err := a.GetOrLoad(ctx, nil, key, load)
		require.NoError(t, err)
	}

	lapses := a.Stats().Lapses
	cluster.Node(0).Kill()
	eventually(t, func() bool { return a.Stats().Lapses > lapses && a.partial.Load() },
		"the silent node ends the lease, and the heartbeat hears the others")
	for _, key := range keys {
		got, err := a.GetOrLoad(ctx, nil, key, load)
		require.NoError(t, err, "every key is still answered")
		require.Equal(t, encodeVersion(key, 0), got)
	}
	s := a.Stats()
	assert.NotZero(t, s.DirectLoads, "the dead node's keys go to the loader: %+v", s)
	assert.NotZero(t, s.RedisHits, "the live nodes' keys come from Redis: %+v", s)

	// Writes through the live nodes still reach this instance.
	var live []byte
	for _, key := range keys {
		if _, ok := redisGetOK(b, key); ok {
			live = key
			break
		}
	}
	require.NotNil(t, live, "some key lives on a live node")
	src.bump(live)
	require.NoError(t, other.Invalidate(ctx, live))
	require.Eventually(t, func() bool {
		got, err := a.GetOrLoad(ctx, nil, live, load)
		return err == nil && string(got) == string(encodeVersion(live, 1))
	}, 30*time.Second, 5*time.Millisecond)

	require.NoError(t, cluster.Node(0).Restart())
	require.NoError(t, cluster.WaitOK(20*time.Second))
	for _, key := range newKeys("after-cluster-outage", 10) {
		require.Eventually(t, func() bool {
			_, err := a.GetOrLoad(ctx, nil, key, load)
			_, inRedis := redisGetOK(b, key)
			return err == nil && inRedis
		}, 30*time.Second, 50*time.Millisecond, "caching through every node resumes")
	}
}
