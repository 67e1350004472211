package tier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/tier/redistest"
)

// eventually drives until cond holds, failing the test after a generous
// deadline: what is asserted is that it happens, not how soon.
func eventually(t *testing.T, cond func() bool, what string) {
	t.Helper()
	require.Eventually(t, cond, 30*time.Second, time.Millisecond, what)
}

// A Tier starts while Redis is down: reads call the loader, writes are
// queued, and when Redis answers the heartbeat connects, delivers the
// queue before the tier reads Redis, and caches through Redis again.
func TestStartsWithoutRedis(t *testing.T) {
	for _, silent := range []bool{false, true} {
		name := map[bool]string{false: "refused", true: "silent"}[silent]
		t.Run(name, func(t *testing.T) {
			server := redistest.Start(t)
			b := backend{"own", []string{server.Addr}}
			ctx := context.Background()
			src := newSource()
			keys := newKeys("start-down", 2)
			// keys[1] holds a value written before this instance starts;
			// the source has moved on from it.
			redisSet(t, b, keys[1], "old")
			src.bump(keys[1])
			if silent {
				require.NoError(t, server.Pause())
			} else {
				server.Kill()
			}
			cfg := testConfig(b)
			cfg.Lease = 100 * time.Millisecond
			cfg.Redis.Dialer.Timeout = 200 * time.Millisecond
			tr, err := New(cfg)
			require.NoError(t, err, "an absent Redis is an outage, not a configuration error")
			t.Cleanup(func() { _ = tr.Close() })

			got, err := tr.GetOrLoad(ctx, nil, keys[0], src.load)
			require.NoError(t, err)
			require.Equal(t, encodeVersion(keys[0], 0), got)
			require.EqualValues(t, 1, tr.Stats().DirectLoads)
			_, err = tr.Get(ctx, nil, keys[1])
			require.ErrorIs(t, err, ErrUnavailable)

			require.NoError(t, tr.Invalidate(ctx, keys[1]), "queued, not refused")
			require.ErrorIs(t, tr.Set(ctx, keys[0], []byte("set while down"), 0), ErrUnavailable)
			got, err = tr.GetOrLoad(ctx, nil, keys[0], src.load)
			require.NoError(t, err)
			require.Equal(t, "set while down", string(got), "this instance reads its own Set without a load")
			require.EqualValues(t, 1, src.loads.Load())
			require.Equal(t, 2, tr.Stats().Pending)

			if silent {
				require.NoError(t, server.Resume())
			} else {
				require.NoError(t, server.Restart())
				redisSet(t, b, keys[1], "old") // written by someone while this instance was away
			}
			eventually(t, func() bool { return tr.Stats().Recoveries > 0 }, "the heartbeat connects")
			s := tr.Stats()
			require.Zero(t, s.Pending)
			require.EqualValues(t, 2, s.Delivered)
			if silent {
				// (A restarted Redis may be seeded after the delivery.)
				_, inRedis := redisGet(t, b, keys[1])
				require.False(t, inRedis, "the queued Invalidate deleted the old value")
			}
			redisSet(t, b, keys[1], "old") // and the next read drops it as any write
			got, err = tr.GetOrLoad(ctx, nil, keys[1], src.load)
			require.NoError(t, err)
			require.Equal(t, "old", string(got), "from Redis, as written last")
			require.NoError(t, tr.Invalidate(ctx, keys[1]))
			got, err = tr.GetOrLoad(ctx, nil, keys[1], src.load)
			require.NoError(t, err)
			require.Equal(t, encodeVersion(keys[1], 1), got)
			v, inRedis := redisGet(t, b, keys[1])
			require.True(t, inRedis, "loads go through Redis again")
			require.Equal(t, string(encodeVersion(keys[1], 1)), v)
			got, err = tr.Get(ctx, nil, keys[1])
			require.NoError(t, err)
			require.Equal(t, encodeVersion(keys[1], 1), got)
		})
	}
}

// Close delivers what it can of the queue and says how much it could not.
func TestCloseReportsUndeliveredWrites(t *testing.T) {
	server := redistest.Start(t)
	b := backend{"own", []string{server.Addr}}
	server.Kill()
	cfg := testConfig(b)
	tr, err := New(cfg)
	require.NoError(t, err)
	keys := newKeys("close-down", 3)
	require.NoError(t, tr.Invalidate(context.Background(), keys...))
	err = tr.Close()
	require.ErrorIs(t, err, ErrUnavailable)
	require.ErrorContains(t, err, "3 queued invalidations were not delivered")
	require.ErrorIs(t, tr.Close(), ringcache.ErrClosed)
}

// redisSet writes key in Redis directly, as another program would.
func redisSet(t *testing.T, b backend, key []byte, value string) {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: b.addrs, DisableCache: true})
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.Do(context.Background(), c.B().Set().Key(string(key)).Value(value).Build()).Error())
}

// Credentials Redis refuses are a configuration error, not an outage.
func TestWrongCredentialsAreErrAuth(t *testing.T) {
	redistest.Need(t)
	server, err := redistest.NewServer(t.TempDir(), "--requirepass", "secret")
	require.NoError(t, err)
	t.Cleanup(server.Stop)
	b := backend{"own", []string{server.Addr}}
	for name, password := range map[string]string{"wrong password": "wrong", "no password": ""} {
		cfg := testConfig(b)
		cfg.Redis.Password = password
		_, err := New(cfg)
		require.ErrorIs(t, err, ErrAuth, name)
		require.NotErrorIs(t, err, ErrUnavailable, name)
	}
	cfg := testConfig(b)
	cfg.Redis.Password = "secret"
	tr := newTier(t, cfg)
	got, err := tr.GetOrLoad(context.Background(), nil, []byte("k"), newSource().load)
	require.NoError(t, err)
	require.Equal(t, encodeVersion([]byte("k"), 0), got)
}

// Get reads both tiers and never loads; a GetOrLoad that meets a Get's
// lookup of the same key still loads.
func TestGet(t *testing.T) {
	onEachBackend(t, func(t *testing.T, b backend) {
		a, other := newTier(t, testConfig(b)), newTier(t, testConfig(b))
		ctx := context.Background()
		src := newSource()
		keys := newKeys("get", 2)

		_, err := a.Get(ctx, nil, keys[0])
		require.ErrorIs(t, err, ErrNotCached)
		got, err := other.GetOrLoad(ctx, nil, keys[0], src.load)
		require.NoError(t, err)
		got, err = a.Get(ctx, got[:0], keys[0])
		require.NoError(t, err)
		require.Equal(t, encodeVersion(keys[0], 0), got, "from Redis")
		hits := a.Stats().Local.Hits
		got, err = a.Get(ctx, nil, keys[0])
		require.NoError(t, err)
		require.Equal(t, encodeVersion(keys[0], 0), got)
		require.Equal(t, hits+1, a.Stats().Local.Hits, "kept locally, tracked")

		src.bump(keys[0])
		require.NoError(t, other.Invalidate(ctx, keys[0]))
		eventually(t, func() bool {
			_, err := a.Get(ctx, nil, keys[0])
			return errors.Is(err, ErrNotCached)
		}, "the notice drops the copy Get kept")

		src.mu.Lock()
		src.missing[string(keys[1])] = true
		src.mu.Unlock()
		_, err = other.GetOrLoad(ctx, nil, keys[1], src.load)
		require.ErrorIs(t, err, ringcache.ErrNotFound)
		_, err = a.Get(ctx, nil, keys[1])
		require.ErrorIs(t, err, ringcache.ErrNotFound, "the absent placeholder")

		// A GetOrLoad joining a Get of a key nobody holds loads it.
		for range 50 {
			key := newKeys("get-race", 1)[0]
			done := make(chan error, 1)
			go func() { _, err := a.Get(ctx, nil, key); done <- err }()
			got, err := a.GetOrLoad(ctx, nil, key, src.load)
			require.NoError(t, err)
			require.Equal(t, encodeVersion(key, 0), got)
			if err := <-done; err != nil {
				require.ErrorIs(t, err, ErrNotCached)
			}
		}
		require.Zero(t, a.Stats().DirectLoads)

		// A loader's own error is never taken for a Get's miss.
		_, err = a.GetOrLoad(ctx, nil, newKeys("get-loader", 1)[0], func(context.Context, []byte) ([]byte, time.Duration, error) {
			return nil, 0, ErrNotCached
		})
		require.ErrorIs(t, err, ErrNotCached)
	})
}

// A key queued while the tier is up (its delete failed) is delivered
// before the tier reads it in Redis: the old value there is never served.
func TestAQueuedKeyIsDeliveredBeforeARead(t *testing.T) {
	b := standaloneBackend(t)
	tr := newTier(t, testConfig(b))
	key := newKeys("queued-read", 1)[0]
	src := newSource()
	src.bump(key)
	redisSet(t, b, key, "old")
	tr.queue(string(key)) // as an Invalidate whose DEL failed leaves it
	got, err := tr.GetOrLoad(context.Background(), nil, key, src.load)
	require.NoError(t, err)
	require.Equal(t, encodeVersion(key, 1), got)
	require.Zero(t, tr.Stats().Pending)
}

// Coming up again drops the copies loaded while down, however long their
// UntrackedTTL: from then on every copy is tracked.
func TestComingUpDropsUntrackedCopies(t *testing.T) {
	server := redistest.Start(t)
	b := backend{"own", []string{server.Addr}}
	cfg := testConfig(b)
	cfg.Lease = 100 * time.Millisecond
	cfg.UntrackedTTL = time.Hour
	tr := newTier(t, cfg)
	ctx := context.Background()
	key := newKeys("untracked", 1)[0]
	src := newSource()
	lapses := tr.Stats().Lapses
	server.Kill()
	eventually(t, func() bool { return tr.Stats().Lapses > lapses }, "the lease lapses")
	got, err := tr.GetOrLoad(ctx, nil, key, src.load)
	require.NoError(t, err)
	require.Equal(t, encodeVersion(key, 0), got, "from the loader, kept untracked")
	src.bump(key)
	require.NoError(t, server.Restart())
	eventually(t, func() bool { return tr.Stats().Recoveries > 0 }, "the tier comes up")
	got, err = tr.GetOrLoad(ctx, nil, key, src.load)
	require.NoError(t, err)
	require.Equal(t, encodeVersion(key, 1), got, "the untracked copy went when the tier came up")
}

// A call waiting on Redis when it goes silent gives up when the lease
// lapses, not after RedisTimeout: the read is answered by the loader.
func TestACallWaitingOnASilentRedisEndsWithTheLease(t *testing.T) {
	server := redistest.Start(t)
	b := backend{"own", []string{server.Addr}}
	cfg := testConfig(b)
	cfg.Lease = 100 * time.Millisecond
	cfg.RedisTimeout = 10 * time.Minute
	cfg.Redis.ConnWriteTimeout = 10 * time.Minute
	tr := newTier(t, cfg)
	require.NoError(t, server.Pause())
	t.Cleanup(func() { _ = server.Resume() })
	key := newKeys("silent", 1)[0]
	done := make(chan error, 1)
	go func() {
		_, err := tr.GetOrLoad(context.Background(), nil, key, newSource().load)
		done <- err
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(time.Minute): // far short of RedisTimeout
		t.Fatal("the read still waits on the silent Redis")
	}
	require.NotZero(t, tr.Stats().DirectLoads)
}
