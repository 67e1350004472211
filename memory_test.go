package ringcache_test

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// sizeMix generates distinct keys and values of chosen lengths into reused
// buffers, so filling a cache allocates nothing per entry.
type sizeMix struct {
	name               string
	minKey, maxKey     int
	minValue, maxValue int
	rng                *rand.Rand
	n                  uint64
	keyBuf, valueBuf   []byte
}

func (m *sizeMix) next() (key, value []byte) {
	if m.rng == nil {
		m.rng = rand.New(rand.NewPCG(7, 7))
		m.keyBuf = make([]byte, m.maxKey)
		m.valueBuf = make([]byte, m.maxValue)
	}
	m.n++
	kl := m.minKey + m.rng.IntN(m.maxKey-m.minKey+1)
	vl := m.minValue + m.rng.IntN(m.maxValue-m.minValue+1)
	key = m.keyBuf[:kl]
	binary.LittleEndian.PutUint64(key, m.n) // distinct: keys are at least 8 bytes
	return key, m.valueBuf[:vl]
}

func mixes() []*sizeMix {
	return []*sizeMix{
		{name: "16B keys, 128B values", minKey: 16, maxKey: 16, minValue: 128, maxValue: 128},
		{name: "8-64B keys, 0-2KiB values", minKey: 8, maxKey: 64, minValue: 0, maxValue: 2048},
		{name: "8-32B keys, 32-512B values", minKey: 8, maxKey: 32, minValue: 32, maxValue: 512},
	}
}

// fill writes distinct keys until it has written twice the capacity.
func fill(t testing.TB, c *ringcache.Cache, m *sizeMix, capacity int64) {
	var written int64
	for written < 2*capacity {
		k, v := m.next()
		if err := c.Set(k, v); err != nil {
			t.Fatal(err) // not require: its t.Helper call costs more than a Set
		}
		written += int64(len(k) + len(v))
	}
}

func TestFullCacheUsesAtLeast85PercentOfCapacity(t *testing.T) {
	capacities := []int64{64 << 10, 1 << 20, 16 << 20, 64 << 20}
	if !raceEnabled && !testing.Short() {
		capacities = append(capacities, 1<<30, 4<<30)
	}
	for _, capacity := range capacities {
		for _, m := range mixes() {
			if capacity > 1<<30 && m.maxValue != 128 {
				continue // one mix is enough at 4 GiB; it takes seconds
			}
			t.Run(fmt.Sprintf("%dKiB/%s", capacity>>10, m.name), func(t *testing.T) {
				c := newCache(t, ringcache.Config{Capacity: capacity})
				fill(t, c, m, capacity)
				st := c.Stats()
				ratio := float64(st.BytesUsed) / float64(capacity)
				t.Logf("%d entries, %.1f%% of capacity in use", st.Entries, 100*ratio)
				require.GreaterOrEqual(t, ratio, 0.85)
				require.Positive(t, st.Evictions)
				if capacity <= 64<<20 {
					require.NoError(t, c.Check())
				}
			})
		}
	}
}

func TestPerEntryOverheadWithin24BytesOr32WithLRUK(t *testing.T) {
	// Capacity divided by entries held, less the 144 payload bytes: header,
	// index share, policy metadata, and any ring or index space the fill
	// leaves unused. The storage engine (FIFO, no policy memory) must stay
	// within 24 bytes; LRU-K's sketch (4 bytes), history (2.6) and tuner
	// (1,152 bytes a shard, under 1 byte an entry in shards of 256 KiB)
	// add at most 8 more.
	for _, tc := range []struct {
		policy ringcache.Policy
		limit  float64
	}{{ringcache.FIFO, 24}, {ringcache.LRUK, 32}} {
		for _, capacity := range []int64{16 << 20, 256 << 20} {
			c := newCache(t, ringcache.Config{Capacity: capacity, Policy: tc.policy})
			m := mixes()[0]
			fill(t, c, m, capacity)
			overhead := float64(capacity)/float64(c.Len()) - 144
			t.Logf("%v, %d MiB: %d entries, %.2f bytes of overhead each", tc.policy, capacity>>20, c.Len(), overhead)
			require.LessOrEqual(t, overhead, tc.limit)
		}
	}
}

func TestGCCostIsFlatInEntries(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("fills 4 million entries; run without -race and -short")
	}
	const entries = 4 << 20
	c := newCache(t, ringcache.Config{Capacity: 768 << 20})
	gcTime := func() time.Duration {
		var times []time.Duration
		for range 7 {
			start := time.Now()
			runtime.GC()
			times = append(times, time.Since(start))
		}
		slices.Sort(times)
		return times[len(times)/2]
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	emptyObjects := ms.HeapObjects
	emptyGC := gcTime()

	m := mixes()[0]
	for range entries {
		k, v := m.next()
		if err := c.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	require.Equal(t, entries, c.Len(), "the cache must hold all entries for the test to mean anything")
	runtime.GC()
	runtime.ReadMemStats(&ms)
	fullGC := gcTime()
	t.Logf("heap objects %d -> %d; forced GC median %v empty, %v with %d entries", emptyObjects, ms.HeapObjects, emptyGC, fullGC, entries)
	// The GC's work follows the heap objects, which do not grow with the
	// entries: that is the property, and the times logged above show it
	// (a cache with an object per entry takes tens of milliseconds here).
	// Times are not asserted: on a shared machine they move with the load.
	require.Less(t, int64(ms.HeapObjects)-int64(emptyObjects), int64(1000))
}

func TestRSSStaysWithinCapacity(t *testing.T) {
	if raceEnabled || testing.Short() {
		t.Skip("fills a 1 GiB cache; run without -race and -short")
	}
	if _, err := os.Stat("/proc/self/statm"); err != nil {
		t.Skip("needs /proc/self/statm")
	}
	const capacity = 1 << 30
	for _, m := range mixes() {
		t.Run(m.name, func(t *testing.T) {
			runtime.GC()
			debug.FreeOSMemory()
			before := rss(t)
			c, err := ringcache.New(ringcache.Config{Capacity: capacity})
			require.NoError(t, err)
			fill(t, c, m, capacity)
			grown := rss(t) - before
			t.Logf("RSS grew by %.1f MiB for a %d MiB cache", float64(grown)/(1<<20), capacity>>20)
			require.NoError(t, c.Close())
			require.LessOrEqual(t, grown, int64(capacity+capacity/50+8<<20))
			require.Less(t, rss(t)-before, int64(64<<20), "Close must return the memory")
		})
	}
}

func rss(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	require.NoError(t, err)
	fields := strings.Fields(string(b))
	pages, err := strconv.ParseInt(fields[1], 10, 64)
	require.NoError(t, err)
	return pages * int64(os.Getpagesize())
}

// A new cache commits none of its memory before it is used: the index and
// the policy's sketch and history are laid over the mapping as it comes,
// zeroed, so a service restart does not wait for a large cache.
func TestNewCommitsNoMemoryBeforeTheFirstWrite(t *testing.T) {
	if strconv.IntSize < 64 {
		t.Skip("maps 16 GiB")
	}
	if _, err := os.Stat("/proc/self/statm"); err != nil {
		t.Skip("needs /proc/self/statm")
	}
	runtime.GC()
	before := rss(t)
	start := time.Now()
	c, err := ringcache.New(ringcache.Config{Capacity: 16 << 30})
	took := time.Since(start)
	require.NoError(t, err)
	defer c.Close()
	grown := rss(t) - before
	t.Logf("New of 16 GiB took %v and grew RSS by %.1f MiB", took, float64(grown)/(1<<20))
	require.Less(t, grown, int64(64<<20))
	require.NoError(t, c.Set([]byte("k"), []byte("v")))
	v, ok := c.Get(nil, []byte("k"))
	require.True(t, ok)
	require.Equal(t, "v", string(v))
}

// heapPeak samples the bytes of live and not yet collected heap objects
// until stop is closed, and returns the largest sample.
func heapPeak(stop <-chan struct{}) <-chan uint64 {
	out := make(chan uint64, 1)
	go func() {
		sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		for {
			metrics.Read(sample)
			peak = max(peak, sample[0].Value.Uint64())
			select {
			case <-stop:
				out <- peak
				return
			case <-time.After(100 * time.Microsecond):
			}
		}
	}()
	return out
}

// Values of an eighth of the capacity, stored in chunks, written and read
// by eight goroutines at once: the cache's own heap stays within a few
// MiB (a chunk of scratch per call, never a value's worth), compressed or
// not.
func TestLargeValuesKeepTheHeapSmall(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector's own allocations would be counted")
	}
	const capacity, writers = 64 << 20, 8
	for name, codec := range map[string]ringcache.Codec{"plain": ringcache.NoCompression, "s2": ringcache.S2} {
		t.Run(name, func(t *testing.T) {
			c := newCache(t, ringcache.Config{Capacity: capacity, Compression: ringcache.Compression{Codec: codec}})
			size := c.MaxEntrySize() - 8
			values, bufs := make([][]byte, writers), make([][]byte, writers)
			for w := range values {
				values[w] = make([]byte, size)
				for i := range values[w] {
					values[w][i] = byte(i*w) ^ byte(i>>10) // compressible, in part
				}
				bufs[w] = make([]byte, 0, size)
			}
			runtime.GC()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			base := ms.HeapAlloc
			stop := make(chan struct{})
			peak := heapPeak(stop)
			var wg sync.WaitGroup
			for w := range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					key := []byte(fmt.Sprintf("big%05d", w))
					for i := range 6 {
						key[3] = byte('0' + (w+i)%writers)
						if err := c.Set(key, values[w]); err != nil {
							t.Error(err)
							return
						}
						if v, ok := c.Get(bufs[w][:0], key); ok && len(v) != size {
							t.Errorf("a read returned %d bytes of a %d-byte value", len(v), size)
						}
					}
				}()
			}
			wg.Wait()
			close(stop)
			grown := int64(<-peak) - int64(base)
			t.Logf("peak heap %.1f MiB over the %d MiB the test holds", float64(grown)/(1<<20), (2*writers*size)>>20)
			require.Less(t, grown, int64(capacity/100+4<<20))
			require.NoError(t, c.Check())
		})
	}
}
