package ringprom_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/metrics/ringprom"
	"github.com/ringcache/ringcache/tier"
	"github.com/ringcache/ringcache/tier/redistest"
)

// workload makes a known set of counts: 3 sets, 2 hits, 1 miss, and 2
// loads of which one reports ErrNotFound.
func workload(t *testing.T, get func(context.Context, []byte, ringcache.LoadFunc) ([]byte, error), c *ringcache.Cache) {
	t.Helper()
	for _, k := range []string{"a", "b", "c"} {
		require.NoError(t, c.Set([]byte(k), []byte("value of "+k)))
	}
	for _, k := range []string{"a", "b", "x"} {
		c.Get(nil, []byte(k))
	}
	load := func(_ context.Context, key []byte) ([]byte, time.Duration, error) {
		if string(key) == "gone" {
			return nil, 0, ringcache.ErrNotFound
		}
		time.Sleep(2 * time.Millisecond)
		return []byte("loaded"), 0, nil
	}
	_, err := get(context.Background(), []byte("loaded"), load)
	require.NoError(t, err)
	_, err = get(context.Background(), []byte("gone"), load)
	require.ErrorIs(t, err, ringcache.ErrNotFound)
}

func TestCacheCollector(t *testing.T) {
	c, err := ringcache.New(ringcache.Config{Capacity: 1 << 20, Shards: 4})
	require.NoError(t, err)
	defer c.Close()
	workload(t, func(ctx context.Context, k []byte, l ringcache.LoadFunc) ([]byte, error) {
		return c.GetOrLoad(ctx, nil, k, l)
	}, c)

	col := ringprom.NewCacheCollector("users", c)
	problems, err := testutil.CollectAndLint(col)
	require.NoError(t, err)
	require.Empty(t, problems, "names, units and help follow Prometheus's conventions")
	require.NoError(t, testutil.CollectAndCompare(col, strings.NewReader(`
# HELP ringcache_hits_total Reads that returned a value.
# TYPE ringcache_hits_total counter
ringcache_hits_total{cache="users"} 2
# HELP ringcache_loads_total Loader calls, background refreshes included.
# TYPE ringcache_loads_total counter
ringcache_loads_total{cache="users"} 2
# HELP ringcache_capacity_bytes The cache's Capacity.
# TYPE ringcache_capacity_bytes gauge
ringcache_capacity_bytes{cache="users"} 1.048576e+06
`), "ringcache_hits_total", "ringcache_loads_total", "ringcache_capacity_bytes"))
	s := c.Stats()
	require.EqualValues(t, s.Misses, testutil.ToFloat64(one(col, "ringcache_misses_total")))
	require.EqualValues(t, 4, testutil.ToFloat64(one(col, "ringcache_sets_total")), "3 sets and the loaded value (no NegativeTTL: no tombstone)")

	reg := prometheus.NewPedanticRegistry()
	require.NoError(t, reg.Register(col))
	families, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == "ringcache_load_duration_seconds" {
			h := f.GetMetric()[0].GetHistogram()
			require.EqualValues(t, 2, h.GetSampleCount())
			require.GreaterOrEqual(t, h.GetSampleSum(), 0.002, "one load slept 2ms")
			require.Len(t, h.GetBucket(), len(ringcache.LoadBuckets))
			return
		}
	}
	t.Fatal("no load histogram")
}

// one picks one metric of col by name, as a collector of its own, for
// testutil.ToFloat64.
func one(col prometheus.Collector, name string) prometheus.Collector {
	return filtered{col, name}
}

type filtered struct {
	prometheus.Collector
	name string
}

func (f filtered) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric, 100)
	go func() { f.Collector.Collect(all); close(all) }()
	for m := range all {
		if strings.Contains(m.Desc().String(), `"`+f.name+`"`) {
			ch <- m
		}
	}
}

func TestTierCollector(t *testing.T) {
	server := redistest.Start(t)
	tr, err := tier.New(tier.Config{
		Redis: rueidis.ClientOption{InitAddress: []string{server.Addr}},
		Local: ringcache.Config{Capacity: 1 << 20, Shards: 4},
	})
	require.NoError(t, err)
	defer tr.Close()
	ctx := context.Background()
	load := func(context.Context, []byte) ([]byte, time.Duration, error) { return []byte("v"), 0, nil }
	for range 3 {
		_, err := tr.GetOrLoad(ctx, nil, []byte("k"), load)
		require.NoError(t, err)
	}
	require.NoError(t, tr.Invalidate(ctx, []byte("k")))

	col := ringprom.NewTierCollector("sessions", tr)
	problems, err := testutil.CollectAndLint(col)
	require.NoError(t, err)
	require.Empty(t, problems)
	require.EqualValues(t, 1, testutil.ToFloat64(one(col, "ringcache_tier_loads_total")), "one load under the Redis lock")
	require.EqualValues(t, 1, testutil.ToFloat64(one(col, "ringcache_tier_invalidated_total")))
	require.EqualValues(t, 2, testutil.ToFloat64(one(col, "ringcache_hits_total")), "the local cache's figures, same label")
	require.Zero(t, testutil.ToFloat64(one(col, "ringcache_tier_pending")))
}
