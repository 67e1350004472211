package ringcache_test

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// Without a size hint a full cache keeps most of its capacity in payload,
// whatever the entry size: the index adapts to the entries stored. The
// targets are near what ~30 bytes of header, index slot and policy memory
// per entry allow.
func TestPayloadKeptWithoutAHint(t *testing.T) {
	if raceEnabled {
		t.Skip("fills gigabytes: run without -race (.ci/run does)")
	}
	sizes := []struct {
		entry int // key plus value bytes
		least float64
	}{{24, 0.40}, {64, 0.65}, {144, 0.80}, {1024, 0.92}}
	capacities := []int64{64 << 20}
	if !testing.Short() {
		capacities = append(capacities, 1<<30)
	}
	for _, capacity := range capacities {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("%dMiB/%dB", capacity>>20, size.entry), func(t *testing.T) {
				c := newCache(t, ringcache.Config{Capacity: capacity})
				key := make([]byte, 8)
				value := make([]byte, size.entry-len(key))
				for n := uint64(0); n < uint64(2*capacity)/uint64(size.entry); n++ {
					binary.LittleEndian.PutUint64(key, n)
					if err := c.Set(key, value); err != nil {
						t.Fatal(err)
					}
				}
				st := c.Stats()
				kept := float64(st.Entries) * float64(size.entry) / float64(capacity)
				t.Logf("%d entries: payload %.1f%% of capacity, %d replans", st.Entries, 100*kept, st.Replans)
				require.GreaterOrEqual(t, kept, size.least)
				if capacity <= 64<<20 {
					require.NoError(t, c.Check())
				}
			})
		}
		t.Run(fmt.Sprintf("%dMiB/log-normal 16B-16KiB", capacity>>20), func(t *testing.T) {
			c := newCache(t, ringcache.Config{Capacity: capacity})
			sizeOf := logNormalSizes(16, 16<<10)
			key := make([]byte, 8)
			value := make([]byte, 16<<10)
			var written int64
			n := uint64(0)
			for ; written < 2*capacity; n++ {
				binary.LittleEndian.PutUint64(key, n)
				sz := sizeOf(n)
				if err := c.Set(key, value[:sz-len(key)]); err != nil {
					t.Fatal(err)
				}
				written += int64(sz)
			}
			var payload int64
			for i := uint64(0); i < n; i++ {
				binary.LittleEndian.PutUint64(key, i)
				if c.Has(key) {
					payload += int64(sizeOf(i))
				}
			}
			st := c.Stats()
			kept := float64(payload) / float64(capacity)
			t.Logf("%d entries: payload %.1f%% of capacity, %d replans", st.Entries, 100*kept, st.Replans)
			require.GreaterOrEqual(t, kept, 0.85)
		})
	}
}

// logNormalSizes returns a size for each entry number: log-normal around
// 256 bytes, clamped to [lo, hi], the same for the same number.
func logNormalSizes(lo, hi int) func(n uint64) int {
	return func(n uint64) int {
		r := rand.New(rand.NewPCG(n, 0x5eed))
		v := math.Exp(math.Log(256) + 1.5*r.NormFloat64())
		return min(max(int(v), lo), hi)
	}
}
