package ringcache_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/bloom"
	"github.com/ringcache/ringcache/ttl"
)

// fakeDB is a loader over a map, counting its calls; fail makes every
// load fail with that error.
type fakeDB struct {
	mu    sync.Mutex
	rows  map[string]string
	ttl   time.Duration
	fail  error
	calls atomic.Int32
}

func (db *fakeDB) load(_ context.Context, key []byte) ([]byte, time.Duration, error) {
	db.calls.Add(1)
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.fail != nil {
		return nil, 0, db.fail
	}
	v, ok := db.rows[string(key)]
	if !ok {
		return nil, 0, ringcache.ErrNotFound
	}
	return []byte(v), db.ttl, nil
}

func (db *fakeDB) set(key, value string) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.rows[key] = value
}

func (db *fakeDB) failWith(err error) {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.fail = err
}

func loaderCache(t *testing.T, cfg ringcache.Config) (*ringcache.Cache, *ttl.Clock, *fakeDB) {
	t.Helper()
	clock := ttl.NewManualClock()
	cfg.Clock = clock
	if cfg.Capacity == 0 {
		cfg.Capacity = 4 << 20
	}
	return newCache(t, cfg), clock, &fakeDB{rows: map[string]string{"user:1": "alice"}, ttl: time.Minute}
}

func getOrLoad(t *testing.T, c *ringcache.Cache, db *fakeDB, key string) (string, error) {
	t.Helper()
	v, err := c.GetOrLoad(context.Background(), nil, []byte(key), db.load)
	return string(v), err
}

func TestGetOrLoadLoadsOnceThenHits(t *testing.T) {
	c, clock, db := loaderCache(t, ringcache.Config{})
	v, err := getOrLoad(t, c, db, "user:1")
	require.NoError(t, err)
	require.Equal(t, "alice", v)
	for range 3 {
		v, err = getOrLoad(t, c, db, "user:1")
		require.NoError(t, err)
		require.Equal(t, "alice", v)
	}
	require.Equal(t, int32(1), db.calls.Load())
	require.Equal(t, "alice", mustGet(t, c, "user:1"), "a loaded value is visible to plain reads")

	clock.Advance(time.Minute)
	_, ok := c.Get(nil, []byte("user:1"))
	require.False(t, ok, "the loader's TTL applies")
	db.set("user:1", "alice v2")
	v, _ = getOrLoad(t, c, db, "user:1")
	require.Equal(t, "alice v2", v)
	require.Equal(t, int32(2), db.calls.Load())
	st := c.Stats()
	require.Equal(t, uint64(2), st.Loads)
}

func TestGetOrLoadHitDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	c, _, db := loaderCache(t, ringcache.Config{})
	key := []byte("user:1")
	dst := make([]byte, 0, 64)
	_, err := c.GetOrLoad(context.Background(), dst, key, db.load)
	require.NoError(t, err)
	ctx := context.Background()
	load := ringcache.LoadFunc(db.load) // a method value allocates where it is made: make it once
	require.Zero(t, testing.AllocsPerRun(1000, func() { dst, _ = c.GetOrLoad(ctx, dst[:0], key, load) }))
}

func TestGetOrLoadWithPassesItsArgument(t *testing.T) {
	c, _, _ := loaderCache(t, ringcache.Config{})
	ctx := context.Background()
	var seen []string
	load := func(_ context.Context, key []byte, suffix string) ([]byte, time.Duration, error) {
		seen = append(seen, suffix)
		return append(key, suffix...), 0, nil
	}
	v, err := ringcache.GetOrLoadWith(c, ctx, []byte("> "), []byte("k"), load, "-1")
	require.NoError(t, err)
	require.Equal(t, "> k-1", string(v))
	v, err = ringcache.GetOrLoadWith(c, ctx, nil, []byte("k"), load, "-2")
	require.NoError(t, err)
	require.Equal(t, "k-1", string(v), "a hit does not load")
	require.Equal(t, []string{"-1"}, seen)
	_, err = ringcache.GetOrLoadWith[int](c, ctx, nil, []byte("k"), nil, 0)
	require.ErrorIs(t, err, ringcache.ErrNilLoader)
}

func TestStampedeOnAnExpiredKeyCallsTheLoaderOnce(t *testing.T) {
	c, clock, _ := loaderCache(t, ringcache.Config{})
	var calls atomic.Int32
	release := make(chan struct{})
	slow := func(ctx context.Context, key []byte) ([]byte, time.Duration, error) {
		calls.Add(1)
		<-release
		return []byte("fresh"), time.Minute, nil
	}
	require.NoError(t, c.SetWithTTL([]byte("hot"), []byte("old"), time.Second))
	clock.Advance(time.Second) // the hot key has just expired

	const callers = 1000
	var started, done sync.WaitGroup
	errs := make(chan error, callers)
	for range callers {
		started.Add(1)
		done.Add(1)
		go func() {
			defer done.Done()
			started.Done()
			v, err := c.GetOrLoad(context.Background(), nil, []byte("hot"), slow)
			if err == nil && string(v) != "fresh" {
				err = fmt.Errorf("got %q", v)
			}
			errs <- err
		}()
	}
	started.Wait()
	require.Eventually(t, func() bool { return calls.Load() == 1 }, 30*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond) // let stragglers join the flight
	close(release)
	done.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Equal(t, int32(1), calls.Load(), "1,000 callers on one expired key must cause one load")
	require.Greater(t, c.Stats().SharedLoads, uint64(0))
}

func TestNegativeCaching(t *testing.T) {
	c, clock, db := loaderCache(t, ringcache.Config{NegativeTTL: time.Second})
	_, err := getOrLoad(t, c, db, "user:404")
	require.ErrorIs(t, err, ringcache.ErrNotFound)
	for range 3 {
		_, err = getOrLoad(t, c, db, "user:404")
		require.ErrorIs(t, err, ringcache.ErrNotFound)
	}
	require.Equal(t, int32(1), db.calls.Load(), "the tombstone answers without the loader")
	require.Equal(t, uint64(3), c.Stats().NegativeHits)
	_, ok := c.Get(nil, []byte("user:404"))
	require.False(t, ok, "plain reads never see a tombstone")
	require.False(t, c.Has([]byte("user:404")))
	require.False(t, c.GetFunc([]byte("user:404"), func([]byte) { t.Fatal("tombstone served") }))
	_, ok = c.TTL([]byte("user:404"))
	require.False(t, ok)

	clock.Advance(time.Second)
	_, err = getOrLoad(t, c, db, "user:404")
	require.ErrorIs(t, err, ringcache.ErrNotFound)
	require.Equal(t, int32(2), db.calls.Load(), "an expired tombstone loads again")

	db.set("user:404", "created")
	require.NoError(t, c.Set([]byte("user:404"), []byte("created")))
	v, err := getOrLoad(t, c, db, "user:404")
	require.NoError(t, err)
	require.Equal(t, "created", v, "a Set replaces the tombstone at once")

	require.True(t, c.Delete([]byte("user:404")))
	db.set("user:405", "x")
	_, err = getOrLoad(t, c, db, "user:406")
	require.ErrorIs(t, err, ringcache.ErrNotFound)
	deletes := c.Stats().Deletes
	require.False(t, c.Delete([]byte("user:406")), "a tombstone is no value: Delete reports none held")
	require.Equal(t, deletes, c.Stats().Deletes, "nor counts it")
	calls := db.calls.Load()
	_, _ = getOrLoad(t, c, db, "user:406")
	require.Equal(t, calls+1, db.calls.Load(), "a Delete removes the tombstone at once")
}

func TestNoNegativeCachingByDefault(t *testing.T) {
	c, _, db := loaderCache(t, ringcache.Config{})
	for range 3 {
		_, err := getOrLoad(t, c, db, "user:404")
		require.ErrorIs(t, err, ringcache.ErrNotFound)
	}
	require.Equal(t, int32(3), db.calls.Load())
}

var errDatabaseDown = errors.New("database down")

func TestLoaderErrorsAreReturnedAndNotCached(t *testing.T) {
	c, _, db := loaderCache(t, ringcache.Config{})
	db.failWith(errDatabaseDown)
	for range 2 {
		_, err := getOrLoad(t, c, db, "user:1")
		require.ErrorIs(t, err, errDatabaseDown)
	}
	require.Equal(t, int32(2), db.calls.Load())
	require.Equal(t, uint64(2), c.Stats().LoadErrors)
}

func TestErrorTTLRemembersFailures(t *testing.T) {
	c, clock, db := loaderCache(t, ringcache.Config{ErrorTTL: 100 * time.Millisecond})
	db.failWith(errDatabaseDown)
	_, err := getOrLoad(t, c, db, "user:1")
	require.ErrorIs(t, err, errDatabaseDown)
	_, err = getOrLoad(t, c, db, "user:1")
	require.ErrorIs(t, err, errDatabaseDown, "the remembered error keeps its identity")
	require.Equal(t, int32(1), db.calls.Load())

	clock.Advance(100 * time.Millisecond)
	db.failWith(nil)
	v, err := getOrLoad(t, c, db, "user:1")
	require.NoError(t, err)
	require.Equal(t, "alice", v)

	db.failWith(errDatabaseDown)
	c.Delete([]byte("user:1"))
	_, err = getOrLoad(t, c, db, "user:1")
	require.ErrorIs(t, err, errDatabaseDown)
	require.NoError(t, c.Set([]byte("user:1"), []byte("set by hand")))
	v, err = getOrLoad(t, c, db, "user:1")
	require.NoError(t, err, "a Set clears a remembered error")
	require.Equal(t, "set by hand", v)
}

func TestErrorTTLDoesNotHideAStaleValueWithinItsGrace(t *testing.T) {
	c, clock, db := loaderCache(t, ringcache.Config{StaleGrace: time.Minute, ErrorTTL: 30 * time.Second})
	db.ttl = 10 * time.Millisecond
	_, err := getOrLoad(t, c, db, "user:1")
	require.NoError(t, err)
	clock.Advance(15 * time.Millisecond)
	db.failWith(errDatabaseDown)
	for i := range 3 {
		v, err := getOrLoad(t, c, db, "user:1")
		require.NoError(t, err, "call %d: the remembered error hid the stale value", i)
		require.Equal(t, "alice", v)
	}
	require.Equal(t, int32(2), db.calls.Load(), "the remembered error still spares the loader")
	require.Equal(t, uint64(3), c.Stats().StaleServed)

	clock.Advance(time.Minute)
	_, err = getOrLoad(t, c, db, "user:1")
	require.ErrorIs(t, err, errDatabaseDown, "past the grace the error is all there is")
}

func TestStaleIfError(t *testing.T) {
	c, clock, db := loaderCache(t, ringcache.Config{StaleGrace: time.Minute})
	db.ttl = 10 * time.Millisecond
	_, err := getOrLoad(t, c, db, "user:1")
	require.NoError(t, err)
	clock.Advance(15 * time.Millisecond)

	_, ok := c.Get(nil, []byte("user:1"))
	require.False(t, ok, "plain reads never serve a value past its TTL")
	require.False(t, c.Has([]byte("user:1")))

	db.failWith(errDatabaseDown)
	v, err := getOrLoad(t, c, db, "user:1")
	require.NoError(t, err)
	require.Equal(t, "alice", v, "the stale value stands in for the failed load")
	require.Equal(t, uint64(1), c.Stats().StaleServed)

	db.failWith(nil)
	db.set("user:1", "alice v2")
	v, err = getOrLoad(t, c, db, "user:1")
	require.NoError(t, err)
	require.Equal(t, "alice v2", v, "a successful reload replaces the stale value")

	clock.Advance(time.Minute + 20*time.Millisecond)
	db.failWith(errDatabaseDown)
	_, err = getOrLoad(t, c, db, "user:1")
	require.ErrorIs(t, err, errDatabaseDown, "past the grace nothing is served")
}

// Touch gives a loaded value a new freshness and keeps StaleGrace after
// it: past the new TTL, a failed load still gets the value, for plain
// and chunked values alike.
func TestTouchKeepsTheStaleGraceOfALoadedValue(t *testing.T) {
	c, clock, db := loaderCache(t, ringcache.Config{StaleGrace: time.Minute, Capacity: 8 << 20})
	big := string(bytes.Repeat([]byte("b"), 200<<10)) // in chunks
	db.set("user:big", big)
	db.ttl = 10 * time.Millisecond
	for key, want := range map[string]string{"user:1": "alice", "user:big": big} {
		_, err := getOrLoad(t, c, db, key)
		require.NoError(t, err)
		require.True(t, c.Touch([]byte(key), time.Hour))
		clock.Advance(time.Hour + 30*time.Second) // past the new TTL, within the grace after it
		_, ok := c.Get(nil, []byte(key))
		require.False(t, ok, "%s: plain reads never serve a value past its TTL", key)

		db.failWith(errDatabaseDown)
		v, err := getOrLoad(t, c, db, key)
		require.NoError(t, err, "%s: the grace follows the touched TTL", key)
		require.Equal(t, want, v)
		db.failWith(nil)
	}
}

func TestRefreshAheadServesAndReloadsInTheBackground(t *testing.T) {
	c, clock, db := loaderCache(t, ringcache.Config{RefreshAhead: 0.2})
	db.ttl = 100 * time.Millisecond
	_, err := getOrLoad(t, c, db, "user:1")
	require.NoError(t, err)
	db.set("user:1", "alice v2")

	clock.Advance(70 * time.Millisecond)
	v, _ := getOrLoad(t, c, db, "user:1")
	require.Equal(t, "alice", v)
	require.Equal(t, int32(1), db.calls.Load(), "no refresh before the last 20% of life")

	clock.Advance(15 * time.Millisecond)
	v, err = getOrLoad(t, c, db, "user:1")
	require.NoError(t, err)
	require.Equal(t, "alice", v, "the caller gets the current value at once")
	require.Eventually(t, func() bool { return c.Stats().Refreshes == 1 }, 30*time.Second, time.Millisecond)
	require.Equal(t, int32(2), db.calls.Load())
	require.Equal(t, "alice v2", mustGet(t, c, "user:1"), "the refresh stored the new value")
	d, _ := c.TTL([]byte("user:1"))
	require.Equal(t, 100*time.Millisecond, d, "with a whole new life")

	db.failWith(errDatabaseDown)
	clock.Advance(85 * time.Millisecond)
	v, err = getOrLoad(t, c, db, "user:1")
	require.NoError(t, err)
	require.Equal(t, "alice v2", v)
	require.Eventually(t, func() bool { return c.Stats().RefreshErrors == 1 }, 30*time.Second, time.Millisecond)
	require.Equal(t, "alice v2", mustGet(t, c, "user:1"), "a failed refresh leaves the value")
}

func TestGuardRejectsKeysThatCannotExist(t *testing.T) {
	guard, err := bloom.New(1000, 0.001)
	require.NoError(t, err)
	guard.Add([]byte("user:1"))
	c, _, db := loaderCache(t, ringcache.Config{Guard: guard})
	v, err := getOrLoad(t, c, db, "user:1")
	require.NoError(t, err)
	require.Equal(t, "alice", v)
	_, err = getOrLoad(t, c, db, "user:999999")
	require.ErrorIs(t, err, ringcache.ErrNotFound)
	require.Equal(t, int32(1), db.calls.Load(), "a key the guard rules out never reaches the loader")
	require.Equal(t, uint64(1), c.Stats().GuardRejections)

	c.SetGuard(nil)
	_, err = getOrLoad(t, c, db, "user:999999")
	require.ErrorIs(t, err, ringcache.ErrNotFound)
	require.Equal(t, int32(2), db.calls.Load(), "without a guard the loader decides")
}

func TestGetOrLoadBadInput(t *testing.T) {
	c, _, db := loaderCache(t, ringcache.Config{})
	_, err := c.GetOrLoad(context.Background(), nil, []byte("k"), nil)
	require.ErrorIs(t, err, ringcache.ErrNilLoader)

	negative := func(context.Context, []byte) ([]byte, time.Duration, error) { return []byte("v"), -time.Second, nil }
	_, err = c.GetOrLoad(context.Background(), nil, []byte("k"), negative)
	require.ErrorIs(t, err, ringcache.ErrInvalidTTL)

	calls := 0
	counted := func(context.Context, []byte) ([]byte, time.Duration, error) { calls++; return []byte("v"), 0, nil }
	_, err = c.GetOrLoad(context.Background(), nil, make([]byte, ringcache.MaxKeyLen+1), counted)
	require.ErrorIs(t, err, ringcache.ErrKeyTooLarge)
	require.Zero(t, calls, "a key the cache cannot hold must not reach the loader")

	huge := bytes.Repeat([]byte("x"), c.MaxEntrySize()+1)
	big := func(context.Context, []byte) ([]byte, time.Duration, error) { return huge, 0, nil }
	v, err := c.GetOrLoad(context.Background(), nil, []byte("big"), big)
	require.ErrorIs(t, err, ringcache.ErrEntryTooLarge)
	require.Equal(t, huge, v, "the loaded value is returned even when it cannot be cached")

	require.NoError(t, c.Close())
	_, err = getOrLoad(t, c, db, "user:1")
	require.ErrorIs(t, err, ringcache.ErrClosed)
}

func TestCallerGivingUpCancelsTheLoad(t *testing.T) {
	c, _, _ := loaderCache(t, ringcache.Config{})
	cancelled := make(chan struct{})
	slow := func(ctx context.Context, _ []byte) ([]byte, time.Duration, error) {
		<-ctx.Done()
		close(cancelled)
		return nil, 0, ctx.Err()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := c.GetOrLoad(ctx, nil, []byte("k"), slow)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	select {
	case <-cancelled:
	case <-time.After(5 * time.Second):
		t.Fatal("the load went on after its only caller left")
	}
}

func TestTTLJitterSpreadsExpiriesDeterministically(t *testing.T) {
	ttls := func(seed uint64) []time.Duration {
		c := newCache(t, ringcache.Config{Capacity: 4 << 20, TTLJitter: 0.1, Seed: seed, Clock: ttl.NewManualClock()})
		var out []time.Duration
		for i := range 500 {
			k := []byte(fmt.Sprint("k", i))
			require.NoError(t, c.SetWithTTL(k, []byte("v"), 10*time.Second))
			d, ok := c.TTL(k)
			require.True(t, ok)
			out = append(out, d)
		}
		return out
	}
	a := ttls(42)
	lo, hi := a[0], a[0]
	for _, d := range a {
		require.GreaterOrEqual(t, d, 9*time.Second)
		require.LessOrEqual(t, d, 11*time.Second)
		lo, hi = min(lo, d), max(hi, d)
	}
	require.Greater(t, hi-lo, 1500*time.Millisecond, "the TTLs must spread over most of ±10%")
	require.Equal(t, a, ttls(42), "the same seed gives the same TTLs")
	require.NotEqual(t, a, ttls(43))
}

func TestAdaptiveTTLFollowsHotness(t *testing.T) {
	c, _, db := loaderCache(t, ringcache.Config{AdaptiveTTL: ringcache.AdaptiveTTL{Min: time.Second, Max: 10 * time.Second}})
	db.set("hot", "h")
	db.set("cold", "c")
	// Reads recorded before the load count: a key read over and over is hot.
	for range 20 {
		c.Get(nil, []byte("hot"))
	}
	_, err := getOrLoad(t, c, db, "hot")
	require.NoError(t, err)
	_, err = getOrLoad(t, c, db, "cold")
	require.NoError(t, err)
	hot, _ := c.TTL([]byte("hot"))
	cold, _ := c.TTL([]byte("cold"))
	require.Equal(t, 10*time.Second, hot)
	require.Less(t, cold, 3*time.Second)
	require.GreaterOrEqual(t, cold, time.Second)
}

func TestCompressionIsTransparent(t *testing.T) {
	for _, codec := range []ringcache.Codec{ringcache.S2, ringcache.Zstd} {
		t.Run(fmt.Sprint(codec), func(t *testing.T) {
			c := newCache(t, ringcache.Config{Capacity: 4 << 20, Compression: ringcache.Compression{Codec: codec, MinSize: 64}})
			text := bytes.Repeat([]byte("the quick brown fox jumps over the lazy dog. "), 100)
			random := make([]byte, 4096)
			for i := range random {
				random[i] = byte(rand.Uint32())
			}
			small := []byte("short value")
			for k, v := range map[string][]byte{"text": text, "random": random, "small": small} {
				require.NoError(t, c.Set([]byte(k), v))
				got, ok := c.Get([]byte("prefix"), []byte(k))
				require.True(t, ok)
				require.Equal(t, append([]byte("prefix"), v...), got)
				var viewed []byte
				require.True(t, c.GetFunc([]byte(k), func(b []byte) { viewed = bytes.Clone(b) }))
				require.Equal(t, v, viewed)
				require.True(t, c.Has([]byte(k)))
			}
			st := c.Stats()
			require.Greater(t, st.BytesSaved, uint64(len(text)/2), "the text compresses")
			require.Less(t, st.BytesUsed, uint64(len(text)+len(random)), "and takes less room")
			require.NoError(t, c.Check())

			dst := make([]byte, 0, 64)
			require.Zero(t, testing.AllocsPerRun(100, func() {
				_ = c.Set([]byte("small"), small)
				dst, _ = c.Get(dst[:0], []byte("small"))
			}), "values under MinSize stay allocation-free")
		})
	}
}

func TestAValueCompressionBarelyShrinksIsStoredPlain(t *testing.T) {
	c := newCache(t, ringcache.Config{Capacity: 6 << 10, Shards: 1, Compression: ringcache.Compression{Codec: ringcache.Zstd, MinSize: 64}})
	key := []byte("k")
	n := c.MaxEntrySize() - len(key)
	// Random bytes with a repeat just long enough that zstd saves a few
	// bytes, fewer than the frame takes. (S2's savings jump from none to
	// dozens of bytes, so only zstd makes such values.)
	enc, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	var value []byte
	for run := 1; run < n/2 && value == nil; run++ {
		v := make([]byte, n)
		for i := range v {
			v[i] = byte(rng.Uint32())
		}
		copy(v[n/2:], v[:run])
		if saved := n - len(enc.EncodeAll(v, nil)); saved > 0 && saved <= 11 {
			value = v
		}
	}
	require.NotNil(t, value, "no value that compresses by 1 to 11 bytes")
	require.NoError(t, c.Set(key, value), "a value that fits plain must fit")
	got, ok := c.Get(nil, key)
	require.True(t, ok)
	require.Equal(t, value, got)
	require.Zero(t, c.Stats().BytesSaved, "stored plain")
}

// A caller that missed just before a load finished used to enter the
// single flight after it had closed and load again: about one round in
// twenty of the bench suite's stampede did two loads.
func TestStampedeStragglersReuseAFinishedLoad(t *testing.T) {
	c, _, _ := loaderCache(t, ringcache.Config{})
	var calls atomic.Int32
	load := func(context.Context, []byte) ([]byte, time.Duration, error) {
		calls.Add(1)
		time.Sleep(time.Millisecond)
		return []byte("row"), time.Minute, nil
	}
	const rounds, callers = 30, 200
	for range rounds {
		c.Delete([]byte("hot"))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				v, err := c.GetOrLoad(context.Background(), nil, []byte("hot"), load)
				if err != nil || string(v) != "row" {
					t.Errorf("got %q, %v", v, err)
				}
			}()
		}
		close(start)
		wg.Wait()
	}
	require.Equal(t, int32(rounds), calls.Load(), "one load per round")
}

func TestRefreshesAreOnePerKeyAndBoundedByWorkers(t *testing.T) {
	c, clock, _ := loaderCache(t, ringcache.Config{RefreshAhead: 0.5, RefreshWorkers: 1})
	release := make(chan struct{})
	var refreshes atomic.Int32
	load := func(_ context.Context, key []byte) ([]byte, time.Duration, error) {
		if refreshes.Add(1) > 2 { // the first two calls are the initial loads
			<-release
		}
		return []byte("v"), 100 * time.Millisecond, nil
	}
	for _, k := range []string{"a", "b"} {
		_, err := c.GetOrLoad(context.Background(), nil, []byte(k), load)
		require.NoError(t, err)
	}
	clock.Advance(60 * time.Millisecond) // both in the last half of their lives
	for range 10 {
		for _, k := range []string{"a", "b"} {
			v, err := c.GetOrLoad(context.Background(), nil, []byte(k), load)
			require.NoError(t, err, "a hit due for refresh never blocks")
			require.Equal(t, "v", string(v))
		}
	}
	require.Eventually(t, func() bool { return refreshes.Load() == 3 }, 30*time.Second, time.Millisecond)
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, int32(3), refreshes.Load(),
		"twenty hits due for refresh with one worker: one refresh runs, for one key; the rest are skipped")
	close(release)
	require.Eventually(t, func() bool { return c.Stats().Refreshes == 1 }, 30*time.Second, time.Millisecond)
}
