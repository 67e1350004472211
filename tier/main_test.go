package tier

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/tier/redistest"
)

// The tests share one standalone server and one three-master cluster,
// started on first use; tests that kill a server start their own.
var (
	sharedDir  string
	standalone struct {
		once sync.Once
		s    *redistest.Server
		err  error
	}
	cluster struct {
		once sync.Once
		c    *redistest.Cluster
		err  error
	}
)

func TestMain(m *testing.M) {
	if os.Getenv(holderEnv) != "" {
		holdLockAndHang()
		return
	}
	dir, err := os.MkdirTemp("", "tier-redis-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	sharedDir = dir
	code := m.Run()
	if standalone.s != nil {
		standalone.s.Stop()
	}
	if cluster.c != nil {
		cluster.c.Stop()
	}
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// backend is a Redis deployment the tests run against.
type backend struct {
	name  string
	addrs []string
}

func standaloneBackend(t testing.TB) backend {
	redistest.Need(t)
	standalone.once.Do(func() { standalone.s, standalone.err = redistest.NewServer(sharedDir) })
	require.NoError(t, standalone.err)
	return backend{"standalone", []string{standalone.s.Addr}}
}

func clusterBackend(t testing.TB) backend {
	redistest.Need(t)
	cluster.once.Do(func() {
		dir, err := os.MkdirTemp(sharedDir, "cluster-")
		if err != nil {
			cluster.err = err
			return
		}
		cluster.c, cluster.err = redistest.NewCluster(dir, 3)
	})
	require.NoError(t, cluster.err)
	return backend{"cluster", cluster.c.Addrs}
}

// onEachBackend runs test against the standalone server and the cluster.
func onEachBackend(t *testing.T, test func(t *testing.T, b backend)) {
	for _, get := range []func(testing.TB) backend{standaloneBackend, clusterBackend} {
		b := get(t)
		t.Run(b.name, func(t *testing.T) { test(t, b) })
	}
}

// keyspace gives each test keys of its own on a shared server.
var keyspace atomic.Uint64

func newKeys(prefix string, n int) [][]byte {
	id := keyspace.Add(1)
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte(prefix + ":" + strconv.FormatUint(id, 10) + ":" + strconv.Itoa(i))
	}
	return keys
}

func testConfig(b backend) Config {
	return Config{
		Redis:       rueidis.ClientOption{InitAddress: b.addrs, ConnWriteTimeout: 2 * time.Second},
		Local:       ringcache.Config{Capacity: 8 << 20, Seed: 1},
		TTL:         time.Minute,
		NegativeTTL: 10 * time.Second,
		LockTTL:     time.Second,
	}
}

func newTier(t testing.TB, cfg Config) *Tier {
	t.Helper()
	tr, err := New(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = tr.Close() })
	return tr
}

// redisGetOK reads key from Redis directly: false when it is missing or
// its node does not answer.
func redisGetOK(b backend, key []byte) (string, bool) {
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: b.addrs, DisableCache: true, ConnWriteTimeout: 300 * time.Millisecond})
	if err != nil {
		return "", false
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	v, err := c.Do(ctx, c.B().Get().Key(string(key)).Build()).ToString()
	return v, err == nil
}

// redisGet reads key from Redis directly; "" with false when missing.
func redisGet(t testing.TB, b backend, key []byte) (string, bool) {
	t.Helper()
	c, err := rueidis.NewClient(rueidis.ClientOption{InitAddress: b.addrs, DisableCache: true})
	require.NoError(t, err)
	defer c.Close()
	v, err := c.Do(context.Background(), c.B().Get().Key(string(key)).Build()).ToString()
	if rueidis.IsRedisNil(err) {
		return "", false
	}
	require.NoError(t, err)
	return v, true
}

// source is a system of record for tests: versioned values per key, and
// a count of loads.
type source struct {
	mu       sync.Mutex
	versions map[string]int
	missing  map[string]bool
	loads    atomic.Int64
	delay    time.Duration
	// gate, when set, holds each load until it returns nil, in place of
	// delay: a test that needs others to wait on a load opens it once
	// they do, however long a loaded machine takes to get there.
	gate func(ctx context.Context) error
}

func newSource() *source {
	return &source{versions: map[string]int{}, missing: map[string]bool{}}
}

// version is key's current version.
func (s *source) version(key []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.versions[string(key)]
}

// bump writes a new version of key and returns it.
func (s *source) bump(key []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.versions[string(key)]++
	return s.versions[string(key)]
}

func (s *source) load(ctx context.Context, key []byte) ([]byte, time.Duration, error) {
	s.loads.Add(1)
	s.mu.Lock()
	v, gone := s.versions[string(key)], s.missing[string(key)]
	s.mu.Unlock()
	if s.gate != nil {
		if err := s.gate(ctx); err != nil {
			return nil, 0, err
		}
	}
	if s.delay > 0 {
		select {
		case <-time.After(s.delay):
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		}
	}
	if gone {
		return nil, 0, ringcache.ErrNotFound
	}
	return encodeVersion(key, v), 0, nil
}

func encodeVersion(key []byte, v int) []byte {
	return []byte(string(key) + "@" + strconv.Itoa(v))
}

// askAtOnce has callers goroutines in each instance GetOrLoad key at
// once, and requires each to get want.
func askAtOnce(t *testing.T, insts []*Tier, callers int, key, want []byte, load ringcache.LoadFunc) {
	t.Helper()
	errs := make(chan error, len(insts)*callers)
	var wg sync.WaitGroup
	for _, inst := range insts {
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				got, err := inst.GetOrLoad(ctx, nil, key, load)
				if err == nil && string(got) != string(want) {
					err = fmt.Errorf("got %q, want %q", got, want)
				}
				errs <- err
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
