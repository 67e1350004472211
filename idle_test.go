//go:build unix

package ringcache_test

import (
	"fmt"
	"runtime/debug"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// cpuOver returns the CPU time (user and system) the process spends over d.
func cpuOver(t *testing.T, d time.Duration) time.Duration {
	usage := func() time.Duration {
		var ru syscall.Rusage
		require.NoError(t, syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	before := usage()
	time.Sleep(d)
	return usage() - before
}

func TestIdleCachesCostNoCPU(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for the clock to rest")
	}
	const window = 2 * time.Second
	for _, tc := range []struct {
		caches int
		share  float64 // of one core
	}{{1, 0.01}, {100, 0.02}} {
		t.Run(fmt.Sprint(tc.caches), func(t *testing.T) {
			for range tc.caches {
				c := newCache(t, ringcache.Config{Capacity: 64 << 10})
				require.NoError(t, c.Set([]byte("k"), []byte("v")))
				mustGet(t, c, "k")
			}
			// The runtime returns the memory New's setup freed in the
			// background; do it now, so the window measures the caches.
			debug.FreeOSMemory()
			time.Sleep(2 * time.Second) // the clock rests a second after its last read
			// A machine busy with other work can hold the clock's
			// goroutine past its second; an idle cache must reach a
			// window that costs nothing within a few.
			var used time.Duration
			for try := 0; try < 5; try++ {
				if used = cpuOver(t, window); float64(used) < tc.share*float64(window) {
					break
				}
			}
			t.Logf("%d idle caches used %v of CPU in %v", tc.caches, used, window)
			require.Less(t, float64(used), tc.share*float64(window))
		})
	}
}
