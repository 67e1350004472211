package ringcache_test

import (
	"context"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// saturate keeps every P busy with goroutines that never touch the cache,
// so that the system clock's goroutine waits to run, until the test ends.
func saturate(t *testing.T) {
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for x := 0; !stop.Load(); x++ {
				_ = x * x
			}
		}()
	}
	t.Cleanup(func() { stop.Store(true); wg.Wait() })
}

// An entry is not served once its TTL has passed in real time, even while
// the clock's goroutine is starved: each read that begins TTL plus a
// millisecond after its write returned misses, plain and loaded values
// alike.
func TestExpiryHoldsInRealTimeUnderCPULoad(t *testing.T) {
	c := newCache(t, ringcache.Config{Capacity: 1 << 20, StaleGrace: time.Minute})
	saturate(t)
	const life = 2 * time.Millisecond
	key := []byte("short-lived")
	load := func(context.Context, []byte) ([]byte, time.Duration, error) { return []byte("loaded"), life, nil }
	var buf []byte
	for i := range 100 {
		if i%2 == 0 {
			require.NoError(t, c.SetWithTTL(key, []byte("value"), life))
		} else {
			c.Delete(key)
			_, err := c.GetOrLoad(context.Background(), nil, key, load)
			require.NoError(t, err)
		}
		// The entry's life began before the write returned.
		start := time.Now()
		time.Sleep(life + time.Millisecond)
		late := time.Since(start)
		var ok bool
		buf, ok = c.Get(buf[:0], key)
		require.False(t, ok, "round %d: a read %v after the write returned, TTL %v, returned %q", i, late, life, buf)
		require.False(t, c.Has(key), "round %d", i)
	}
}
