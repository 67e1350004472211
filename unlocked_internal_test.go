package ringcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// Reads served without the shard lock are counted once, as hits or
// misses, whichever path serves them: plain and framed values without the
// lock, compressed values under it, and a GetOrLoad miss once although it
// reads twice.
func TestReadsWithoutTheLockAreCountedOnce(t *testing.T) {
	c, err := New(Config{Capacity: 4 << 20, Compression: Compression{Codec: S2, MinSize: 512}})
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	if !c.optimistic {
		t.Skip("reads take the lock where the region cannot be released (not Linux)")
	}
	ctx := context.Background()
	plain, big := []byte("plain value"), bytes.Repeat([]byte("compressible "), 100)
	require.NoError(t, c.Set([]byte("plain"), plain))
	require.NoError(t, c.Set([]byte("big"), big))
	loads := 0
	load := func(context.Context, []byte) ([]byte, time.Duration, error) {
		loads++
		return []byte("loaded"), time.Minute, nil
	}
	v, err := c.GetOrLoad(ctx, nil, []byte("loaded"), load)
	require.NoError(t, err)
	require.Equal(t, "loaded", string(v))
	st := c.Stats()
	require.Equal(t, uint64(1), st.Misses, "GetOrLoad's miss is counted once")
	require.Zero(t, st.Hits)

	for range 3 {
		v, ok := c.Get([]byte("x:"), []byte("plain"))
		require.True(t, ok)
		require.Equal(t, "x:plain value", string(v))
		v, ok = c.Get([]byte("x:"), []byte("loaded"))
		require.True(t, ok)
		require.Equal(t, "x:loaded", string(v), "a framed value is served whole, without its frame")
		v, err = c.GetOrLoad(ctx, []byte("x:"), []byte("loaded"), load)
		require.NoError(t, err)
		require.Equal(t, "x:loaded", string(v))
		v, ok = c.Get(nil, []byte("big"))
		require.True(t, ok)
		require.Equal(t, big, v, "a compressed value is decoded under the lock")
	}
	_, ok := c.Get(nil, []byte("absent"))
	require.False(t, ok)
	st = c.Stats()
	require.Equal(t, 1, loads)
	require.Equal(t, uint64(12), st.Hits)
	require.Equal(t, uint64(2), st.Misses)
	require.Equal(t, uint64(9), c.hits.sum(), "plain and framed hits took no lock")

	_, err = c.GetOrLoad(ctx, nil, []byte("gone"), func(context.Context, []byte) ([]byte, time.Duration, error) {
		return nil, 0, ErrNotFound
	})
	require.True(t, errors.Is(err, ErrNotFound))
	_, ok = c.Get(nil, []byte("gone"))
	require.False(t, ok, "a tombstone is no value")
	require.NoError(t, c.Check())
}

// Close keeps the region mapped for reads that may still be copying; the
// mapping goes once the Cache is unreachable. The test watches the
// address in /proc/self/maps: the cleanup that unmaps runs on a goroutine
// of its own, and the Region is not for concurrent use.
func TestTheMappingGoesWithTheCache(t *testing.T) {
	c, err := New(Config{Capacity: 1 << 20})
	require.NoError(t, err)
	if !c.optimistic {
		t.Skip("the region is freed by Close where it cannot be released (not Linux)")
	}
	addr := uintptr(unsafe.Pointer(unsafe.SliceData(c.region.Bytes())))
	require.NoError(t, c.Set([]byte("k"), []byte("v")))
	require.NoError(t, c.Close())
	require.True(t, mapped(t, addr), "Close must not unmap: a Get may be copying")
	c = nil
	deadline := time.Now().Add(5 * time.Second)
	for mapped(t, addr) && time.Now().Before(deadline) {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	require.False(t, mapped(t, addr), "the mapping must go once the Cache is unreachable")
}

// mapped reports whether addr lies in one of the process's mappings.
func mapped(t *testing.T, addr uintptr) bool {
	maps, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err)
	for _, line := range strings.Split(string(maps), "\n") {
		var lo, hi uintptr
		if _, err := fmt.Sscanf(line, "%x-%x", &lo, &hi); err == nil && lo <= addr && addr < hi {
			return true
		}
	}
	return false
}
