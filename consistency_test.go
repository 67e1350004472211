package ringcache_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// stalledLoad returns a loader that has read its answer (value or err)
// from the database and hands it over only when release is closed: a load
// that read the source before a write the test makes meanwhile. started
// is closed when the loader is called.
func stalledLoad(value string, err error) (load ringcache.LoadFunc, started, release chan struct{}) {
	started, release = make(chan struct{}), make(chan struct{})
	load = func(context.Context, []byte) ([]byte, time.Duration, error) {
		close(started)
		<-release
		if err != nil {
			return nil, 0, err
		}
		return []byte(value), time.Minute, nil
	}
	return load, started, release
}

// answer returns a loader that answers value at once, counting its calls.
func answer(value string, calls *atomic.Int32) ringcache.LoadFunc {
	return func(context.Context, []byte) ([]byte, time.Duration, error) {
		calls.Add(1)
		return []byte(value), time.Minute, nil
	}
}

type loadResult struct {
	value string
	err   error
}

// goLoad runs GetOrLoad in a goroutine and returns where its result comes.
func goLoad(c *ringcache.Cache, key string, load ringcache.LoadFunc) chan loadResult {
	done := make(chan loadResult, 1)
	go func() {
		v, err := c.GetOrLoad(context.Background(), nil, []byte(key), load)
		done <- loadResult{string(v), err}
	}()
	return done
}

func TestAWriteDuringALoadIsNotUndone(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(c *ringcache.Cache) error
		want  string // what the cache holds afterwards; "" for nothing
	}{
		{"Set", func(c *ringcache.Cache) error { return c.Set([]byte("k"), []byte("new")) }, "new"},
		{"SetWithTTL", func(c *ringcache.Cache) error { return c.SetWithTTL([]byte("k"), []byte("new"), time.Hour) }, "new"},
		{"Delete", func(c *ringcache.Cache) error { c.Delete([]byte("k")); return nil }, ""},
		{"Touch", func(c *ringcache.Cache) error { c.Touch([]byte("k"), time.Hour); return nil }, ""},
		{"Clear", func(c *ringcache.Cache) error { c.Clear(); return nil }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := loaderCache(t, ringcache.Config{})
			load, started, release := stalledLoad("old", nil)
			done := goLoad(c, "k", load)
			<-started
			require.NoError(t, tc.write(c))
			close(release)
			r := <-done
			require.NoError(t, r.err)
			require.Equal(t, "old", r.value, "a caller that asked before the write may get the old value")

			v, ok := c.Get(nil, []byte("k"))
			require.Equal(t, tc.want, string(v), "the load undid the write")
			require.Equal(t, tc.want != "", ok)
			require.Equal(t, uint64(1), c.Stats().LoadsDiscarded)
			require.NoError(t, c.Check())
		})
	}
}

func TestGetOrLoadAfterAWriteDoesNotJoinAnEarlierLoad(t *testing.T) {
	c, _, _ := loaderCache(t, ringcache.Config{})
	load, started, release := stalledLoad("v1", nil)
	early := goLoad(c, "k", load)
	<-started
	c.Delete([]byte("k")) // the database now holds v2

	var calls atomic.Int32
	// Joined to the stalled load, this call would wait for its deadline.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := c.GetOrLoad(ctx, nil, []byte("k"), answer("v2", &calls))
	require.NoError(t, err, "a call that began after the Delete joined the load that began before it")
	require.Equal(t, "v2", string(v))
	require.Equal(t, int32(1), calls.Load())

	close(release)
	require.Equal(t, loadResult{"v1", nil}, <-early)
	require.Equal(t, "v2", mustGet(t, c, "k"), "the earlier load overwrote the later one")
	require.Equal(t, uint64(1), c.Stats().LoadsDiscarded)
}

func TestARefreshDuringAWriteIsNotStored(t *testing.T) {
	for _, tc := range []struct {
		name  string
		write func(c *ringcache.Cache)
		want  string
	}{
		{"Delete", func(c *ringcache.Cache) { c.Delete([]byte("k")) }, ""},
		{"Set", func(c *ringcache.Cache) { require.NoError(t, c.Set([]byte("k"), []byte("new"))) }, "new"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, clock, _ := loaderCache(t, ringcache.Config{RefreshAhead: 0.2})
			var calls atomic.Int32
			_, err := c.GetOrLoad(context.Background(), nil, []byte("k"), answer("v1", &calls))
			require.NoError(t, err)
			clock.Advance(55 * time.Second) // into the last 20% of its minute

			load, started, release := stalledLoad("v1 again", nil)
			v, err := c.GetOrLoad(context.Background(), nil, []byte("k"), load)
			require.NoError(t, err)
			require.Equal(t, "v1", string(v))
			<-started // the background refresh has read the source
			tc.write(c)
			close(release)
			require.Eventually(t, func() bool { return c.Stats().Refreshes == 1 }, 30*time.Second, time.Millisecond)

			got, ok := c.Get(nil, []byte("k"))
			require.Equal(t, tc.want, string(got), "the refresh undid the write")
			require.Equal(t, tc.want != "", ok)
			require.Equal(t, uint64(1), c.Stats().LoadsDiscarded)
		})
	}
}

func TestANotFoundDuringAWriteLeavesNoTombstone(t *testing.T) {
	c, _, _ := loaderCache(t, ringcache.Config{NegativeTTL: time.Minute})
	load, started, release := stalledLoad("", ringcache.ErrNotFound)
	done := goLoad(c, "k", load)
	<-started
	require.NoError(t, c.Set([]byte("k"), []byte("inserted"))) // the row was inserted meanwhile
	close(release)
	require.ErrorIs(t, (<-done).err, ringcache.ErrNotFound)

	var calls atomic.Int32
	v, err := c.GetOrLoad(context.Background(), nil, []byte("k"), answer("unused", &calls))
	require.NoError(t, err, "a tombstone from before the write hides the row")
	require.Equal(t, "inserted", string(v))
	require.Zero(t, calls.Load())
	require.Zero(t, c.Stats().NegativeHits)
}

func TestAnErrorDuringAWriteIsNotRemembered(t *testing.T) {
	c, _, _ := loaderCache(t, ringcache.Config{ErrorTTL: time.Minute})
	down := errors.New("database down")
	load, started, release := stalledLoad("", down)
	done := goLoad(c, "k", load)
	<-started
	c.Delete([]byte("k"))
	close(release)
	require.ErrorIs(t, (<-done).err, down)

	var calls atomic.Int32
	v, err := c.GetOrLoad(context.Background(), nil, []byte("k"), answer("fresh", &calls))
	require.NoError(t, err, "an error from before the write is served after it")
	require.Equal(t, "fresh", string(v))
	require.Equal(t, int32(1), calls.Load())
}

// versionDB is a database of versioned rows: writers bump a row's version
// and then Delete the key (delete-on-write); a load reads the version and
// takes a little while to return it.
type versionDB struct {
	mu       sync.Mutex
	versions []int
	deleted  []atomic.Int64 // the version written before the last Delete that returned
}

func (db *versionDB) bump(i int) int {
	db.mu.Lock()
	defer db.mu.Unlock()
	db.versions[i]++
	return db.versions[i]
}

func (db *versionDB) load(_ context.Context, key []byte) ([]byte, time.Duration, error) {
	i, _ := strconv.Atoi(strings.TrimPrefix(string(key), "row:"))
	db.mu.Lock()
	v := db.versions[i]
	db.mu.Unlock()
	time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond) // the query's round trip
	return []byte(strconv.Itoa(v)), time.Minute, nil
}

func TestDeleteOnWriteUnderLoadServesNoOlderVersion(t *testing.T) {
	const rows, writers, readers, writesEach = 32, 4, 8, 1500
	c := newCache(t, ringcache.Config{Capacity: 4 << 20, RefreshAhead: 0.5})
	db := &versionDB{versions: make([]int, rows), deleted: make([]atomic.Int64, rows)}
	key := func(i int) []byte { return []byte(fmt.Sprintf("row:%d", i)) }

	var writing sync.WaitGroup
	stop := make(chan struct{})
	for w := range writers {
		writing.Add(1)
		go func() {
			defer writing.Done()
			rng := rand.New(rand.NewPCG(uint64(w), 1))
			for range writesEach {
				if rng.IntN(4) == 0 {
					time.Sleep(100 * time.Microsecond) // let reads and loads overlap the writes
				}
				i := rng.IntN(rows)
				v := db.bump(i)
				c.Delete(key(i))
				for { // record the highest version a returned Delete covers
					old := db.deleted[i].Load()
					if int64(v) <= old || db.deleted[i].CompareAndSwap(old, int64(v)) {
						break
					}
				}
			}
		}()
	}
	var reading sync.WaitGroup
	var reads, older atomic.Int64
	for r := range readers {
		reading.Add(1)
		go func() {
			defer reading.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 2))
			var dst []byte
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := rng.IntN(rows)
				floor := db.deleted[i].Load() // written and deleted before this read began
				v, err := c.GetOrLoad(context.Background(), dst[:0], key(i), db.load)
				if err != nil {
					t.Errorf("GetOrLoad: %v", err)
					return
				}
				dst = v
				got, _ := strconv.Atoi(string(v))
				reads.Add(1)
				if int64(got) < floor {
					older.Add(1)
				}
			}
		}()
	}
	writing.Wait()
	close(stop)
	reading.Wait()
	// Background refreshes may still be in flight; they began before the
	// last writes or read the final versions, and must settle either way.
	time.Sleep(50 * time.Millisecond)

	stale := 0
	for i := range rows {
		if v, ok := c.Get(nil, key(i)); ok && string(v) != strconv.Itoa(db.versions[i]) {
			stale++
		}
	}
	t.Logf("%d reads, %d of them older than the last Delete before them; %d of %d keys stale; %d loads discarded",
		reads.Load(), older.Load(), stale, rows, c.Stats().LoadsDiscarded)
	require.Zero(t, stale, "keys left holding an older version than the database")
	require.Zero(t, older.Load(), "of %d reads, some that began after a Delete returned the version before it", reads.Load())
	require.Greater(t, reads.Load(), int64(writesEach), "too few reads overlapped the writes")
	require.Positive(t, c.Stats().LoadsDiscarded, "the writes never raced a load: the test proves nothing")
	require.NoError(t, c.Check())
}
