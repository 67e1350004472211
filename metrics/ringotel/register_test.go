package ringotel_test

import (
	"context"
	"testing"
	"time"

	"github.com/redis/rueidis"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/metrics/ringotel"
	"github.com/ringcache/ringcache/tier"
	"github.com/ringcache/ringcache/tier/redistest"
)

// collected reads every metric once, by name: the value observed with
// cache=name, and whether it is a monotonic sum (a counter).
func collected(t *testing.T, reader *sdkmetric.ManualReader, name string) map[string]metricdata.DataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(context.Background(), &rm))
	out := map[string]metricdata.DataPoint[float64]{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			var points []metricdata.DataPoint[float64]
			switch d := m.Data.(type) {
			case metricdata.Sum[float64]:
				require.True(t, d.IsMonotonic, m.Name)
				points = d.DataPoints
			case metricdata.Gauge[float64]:
				points = d.DataPoints
			default:
				t.Fatalf("%s: unexpected %T", m.Name, m.Data)
			}
			for _, p := range points {
				if v, ok := p.Attributes.Value(attribute.Key("cache")); ok && v.AsString() == name {
					out[m.Name] = p
				}
			}
		}
	}
	return out
}

func TestRegisterCache(t *testing.T) {
	reader := sdkmetric.NewManualReader()
	meter := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test")
	c, err := ringcache.New(ringcache.Config{Capacity: 1 << 20, Shards: 4})
	require.NoError(t, err)
	defer c.Close()
	reg, err := ringotel.RegisterCache(meter, "users", c)
	require.NoError(t, err)

	require.NoError(t, c.Set([]byte("a"), []byte("1")))
	c.Get(nil, []byte("a"))
	c.Get(nil, []byte("b"))
	_, err = c.GetOrLoad(context.Background(), nil, []byte("c"), func(context.Context, []byte) ([]byte, time.Duration, error) {
		time.Sleep(time.Millisecond)
		return []byte("3"), 0, nil
	})
	require.NoError(t, err)

	got := collected(t, reader, "users")
	require.EqualValues(t, 1, got["ringcache.hits"].Value)
	require.EqualValues(t, 2, got["ringcache.misses"].Value, "b, and c before its load")
	require.EqualValues(t, 1, got["ringcache.loads"].Value)
	require.GreaterOrEqual(t, got["ringcache.load.time"].Value, 0.001)
	require.EqualValues(t, 1<<20, got["ringcache.capacity"].Value)
	require.EqualValues(t, 2, got["ringcache.entries"].Value)

	require.NoError(t, reg.Unregister())
	require.Empty(t, collected(t, reader, "users"), "nothing observed once unregistered")
}

func TestRegisterTier(t *testing.T) {
	server := redistest.Start(t)
	tr, err := tier.New(tier.Config{
		Redis: rueidis.ClientOption{InitAddress: []string{server.Addr}},
		Local: ringcache.Config{Capacity: 1 << 20, Shards: 4},
	})
	require.NoError(t, err)
	defer tr.Close()
	reader := sdkmetric.NewManualReader()
	meter := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader)).Meter("test")
	_, err = ringotel.RegisterTier(meter, "sessions", tr)
	require.NoError(t, err)
	ctx := context.Background()
	for range 2 {
		_, err := tr.GetOrLoad(ctx, nil, []byte("k"), func(context.Context, []byte) ([]byte, time.Duration, error) { return []byte("v"), 0, nil })
		require.NoError(t, err)
	}
	got := collected(t, reader, "sessions")
	require.EqualValues(t, 1, got["ringcache.tier.loads"].Value)
	require.EqualValues(t, 1, got["ringcache.hits"].Value, "the local cache's figures, same attribute")
	require.Contains(t, got, "ringcache.tier.pending")
}
