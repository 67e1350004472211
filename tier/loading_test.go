package tier

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

func TestOneLoadAcrossInstances(t *testing.T) {
	onEachBackend(t, func(t *testing.T, b backend) {
		const instances, callers = 3, 1000
		key := newKeys("stampede", 1)[0]
		src := newSource()
		load := src.load
		var insts []*Tier
		for i := 0; i < instances; i++ {
			insts = append(insts, newTier(t, testConfig(b)))
		}
		// The load goes on until every other instance waits for its lock.
		src.gate = func(ctx context.Context) error {
			deadline := time.Now().Add(time.Minute)
			for {
				waiting := 0
				for _, inst := range insts {
					if inst.Stats().LockWaits > 0 {
						waiting++
					}
				}
				switch {
				case waiting >= instances-1:
					return nil
				case time.Now().After(deadline):
					return errors.New("the other instances never waited for the lock")
				}
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(5 * time.Millisecond):
				}
			}
		}
		askAtOnce(t, insts, callers, key, encodeVersion(key, 0), load)
		require.EqualValues(t, 1, src.loads.Load(), "%d callers in %d instances, one load", instances*callers, instances)
		var waits, redisReads uint64
		for _, inst := range insts {
			s := inst.Stats()
			waits += s.LockWaits
			redisReads += s.RedisHits + s.RedisMisses
			// Waiting instances learn of the value from the notice: a
			// handful of reads each, not a poll.
			assert.LessOrEqual(t, s.RedisHits+s.RedisMisses+s.LockWaits, uint64(6), "Redis reads and waits of one instance: %+v", s)
			assert.Zero(t, inst.waits.pending(), "every wait registered for a notice was let go")
		}
		assert.GreaterOrEqual(t, waits, uint64(instances-1), "the other instances waited for the lock")
		t.Logf("%s: %d callers, 1 load, %d lock waits, %d tracked reads in all", b.name, instances*callers, waits, redisReads)
	})
}

// A load that read the source before a write must not be stored by either
// tier after the write: the write's instance, or any other client, wins.
func TestAWriteDuringALoadWinsAcrossInstances(t *testing.T) {
	onEachBackend(t, func(t *testing.T, b backend) {
		writes := map[string]func(t *testing.T, writer *Tier, key []byte, v int){
			"Invalidate": func(t *testing.T, writer *Tier, key []byte, _ int) {
				require.NoError(t, writer.Invalidate(context.Background(), key))
			},
			"Set": func(t *testing.T, writer *Tier, key []byte, v int) {
				require.NoError(t, writer.Set(context.Background(), key, encodeVersion(key, v), 0))
			},
			"DEL by another client": func(t *testing.T, _ *Tier, key []byte, _ int) {
				c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: b.addrs, DisableCache: true})
				require.NoError(t, err)
				defer c.Close()
				require.NoError(t, c.Do(context.Background(), c.B().Del().Key(string(key)).Build()).Error())
			},
		}
		for name, writeFn := range writes {
			t.Run(name, func(t *testing.T) {
				key := newKeys("writes-win", 1)[0]
				src := newSource()
				loader, writer := newTier(t, testConfig(b)), newTier(t, testConfig(b))
				read, release := make(chan struct{}), make(chan struct{})
				slow := func(ctx context.Context, k []byte) ([]byte, time.Duration, error) {
					v, d, err := src.load(ctx, k)
					close(read)
					<-release
					return v, d, err
				}
				result := make(chan []byte, 1)
				go func() {
					v, err := loader.GetOrLoad(context.Background(), nil, key, slow)
					assert.NoError(t, err)
					result <- v
				}()
				<-read // the load holds the lock and has read version 0
				v := src.bump(key)
				writeFn(t, writer, key, v)
				close(release)
				require.Equal(t, encodeVersion(key, 0), <-result, "the caller that asked before the write gets what was read")

				inRedis, ok := redisGet(t, b, key)
				if name == "Set" {
					require.Equal(t, string(encodeVersion(key, v)), inRedis, "Redis holds the write")
				} else {
					require.False(t, ok, "Redis holds nothing: %q", inRedis)
				}
				require.EqualValues(t, 1, loader.Stats().Discarded)
				for _, inst := range []*Tier{loader, writer} {
					got, err := inst.GetOrLoad(context.Background(), nil, key, src.load)
					require.NoError(t, err)
					require.Equal(t, encodeVersion(key, v), got, "no tier kept the load that lost")
				}
			})
		}
	})
}

func TestNotFoundIsAPlaceholderEveryInstanceSees(t *testing.T) {
	onEachBackend(t, func(t *testing.T, b backend) {
		ctx := context.Background()
		key := newKeys("absent", 1)[0]
		src := newSource()
		src.missing[string(key)] = true
		a, other := newTier(t, testConfig(b)), newTier(t, testConfig(b))
		for _, inst := range []*Tier{a, other, a, other} {
			_, err := inst.GetOrLoad(ctx, nil, key, src.load)
			require.ErrorIs(t, err, ringcache.ErrNotFound)
		}
		require.EqualValues(t, 1, src.loads.Load(), "the placeholder answers every instance")
		inRedis, ok := redisGet(t, b, key)
		require.True(t, ok)
		require.Equal(t, absentValue, inRedis)
		t.Logf("%+v", a.Stats())
		assert.EqualValues(t, 1, a.Stats().Local.NegativeHits, "the second call in an instance stops locally")

		// The key comes into being: a Set reaches both instances.
		src.mu.Lock()
		delete(src.missing, string(key))
		src.mu.Unlock()
		require.NoError(t, a.Set(ctx, key, encodeVersion(key, 1), 0))
		require.Eventually(t, func() bool {
			got, err := other.GetOrLoad(ctx, nil, key, src.load)
			return err == nil && string(got) == string(encodeVersion(key, 1))
		}, 30*time.Second, 5*time.Millisecond)
		got, err := a.GetOrLoad(ctx, nil, key, src.load)
		require.NoError(t, err)
		require.Equal(t, encodeVersion(key, 1), got)
		require.EqualValues(t, 1, src.loads.Load())
	})
}

func TestNotFoundWithoutNegativeTTLIsNotCached(t *testing.T) {
	b := standaloneBackend(t)
	cfg := testConfig(b)
	cfg.NegativeTTL = 0
	tr := newTier(t, cfg)
	key := newKeys("absent-uncached", 1)[0]
	src := newSource()
	src.missing[string(key)] = true
	for i := 0; i < 3; i++ {
		_, err := tr.GetOrLoad(context.Background(), nil, key, src.load)
		require.ErrorIs(t, err, ringcache.ErrNotFound)
	}
	require.EqualValues(t, 3, src.loads.Load())
	_, ok := redisGet(t, b, key)
	require.False(t, ok, "the lock was released, no placeholder stored")
}

func TestALoaderErrorReleasesTheLock(t *testing.T) {
	b := standaloneBackend(t)
	tr := newTier(t, testConfig(b))
	key := newKeys("load-error", 1)[0]
	boom := errors.New("database down")
	_, err := tr.GetOrLoad(context.Background(), nil, key, func(context.Context, []byte) ([]byte, time.Duration, error) {
		return nil, 0, boom
	})
	require.ErrorIs(t, err, boom)
	_, ok := redisGet(t, b, key)
	require.False(t, ok, "the failed load left no lock behind")
	src := newSource()
	got, err := tr.GetOrLoad(context.Background(), nil, key, src.load)
	require.NoError(t, err)
	require.Equal(t, encodeVersion(key, 0), got)
}

// Another program reading the tier's keys with its own Redis client sees
// the placeholders; ValueOf tells them from values.
func TestPlaceholdersReadAsMissesForOtherClients(t *testing.T) {
	b := standaloneBackend(t)
	ctx := context.Background()
	tr := newTier(t, testConfig(b))
	keys := newKeys("other-client", 2)
	src := newSource()
	src.missing[string(keys[0])] = true
	_, err := tr.GetOrLoad(ctx, nil, keys[0], src.load)
	require.ErrorIs(t, err, ringcache.ErrNotFound)
	raw, ok := redisGet(t, b, keys[0])
	require.True(t, ok)
	_, isValue := ValueOf([]byte(raw))
	require.False(t, isValue, "the absent placeholder %q is a miss", raw)

	loading := make(chan struct{})
	release := make(chan struct{})
	src.gate = func(context.Context) error {
		close(loading)
		<-release
		return nil
	}
	done := make(chan error, 1)
	go func() {
		_, err := tr.GetOrLoad(ctx, nil, keys[1], src.load)
		done <- err
	}()
	<-loading
	raw, ok = redisGet(t, b, keys[1])
	require.True(t, ok)
	_, isValue = ValueOf([]byte(raw))
	require.False(t, isValue, "the lock %q is a miss", raw)
	close(release)
	require.NoError(t, <-done)
	raw, ok = redisGet(t, b, keys[1])
	require.True(t, ok)
	v, isValue := ValueOf([]byte(raw))
	require.True(t, isValue)
	require.Equal(t, string(encodeVersion(keys[1], 0)), string(v))
}
