package ringcache_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ringcache/ringcache"
)

const benchKeys = 1 << 16

// benchCache returns a cache holding benchKeys entries of 16-byte keys and
// 128-byte values, and the keys.
func benchCache(b *testing.B) (*ringcache.Cache, [][]byte) {
	c := newCache(b, ringcache.Config{Capacity: 64 << 20})
	keys := make([][]byte, benchKeys)
	value := make([]byte, 128)
	for i := range keys {
		keys[i] = binary.BigEndian.AppendUint64(make([]byte, 8, 16), uint64(i)*0x9E3779B97F4A7C15)
		if err := c.Set(keys[i], value); err != nil {
			b.Fatal(err)
		}
	}
	return c, keys
}

func BenchmarkGet(b *testing.B) {
	c, keys := benchCache(b)
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dst, _ = c.Get(dst[:0], keys[i&(benchKeys-1)])
		i++
	}
}

// BenchmarkGetOneKey reads one key over and over: what a read costs when
// its memory is in the CPU's nearest caches (BenchmarkGet mostly measures
// cache misses).
func BenchmarkGetOneKey(b *testing.B) {
	c := newCache(b, ringcache.Config{Capacity: 64 << 20})
	key := []byte("0123456789abcdef")
	if err := c.Set(key, make([]byte, 128)); err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = c.Get(dst[:0], key)
	}
}

func BenchmarkGetFunc(b *testing.B) {
	c, keys := benchCache(b)
	n := 0
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		c.GetFunc(keys[i&(benchKeys-1)], func(v []byte) { n += len(v) })
		i++
	}
}

func BenchmarkSet(b *testing.B) {
	c, keys := benchCache(b)
	value := make([]byte, 128)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = c.Set(keys[i&(benchKeys-1)], value)
		i++
	}
}

// BenchmarkSetInPlace overwrites 1,024 keys held in the CPU's caches with
// values of the same size: what a write costs beside its cache misses.
func BenchmarkSetInPlace(b *testing.B) {
	c := newCache(b, ringcache.Config{Capacity: 64 << 20})
	keys := make([][]byte, 1024)
	for i := range keys {
		keys[i] = binary.LittleEndian.AppendUint64([]byte("01234567"), uint64(i))
	}
	value := make([]byte, 128)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		_ = c.Set(keys[i&1023], value)
		i++
	}
}

func BenchmarkSetEvicting(b *testing.B) { benchSetEvicting(b, ringcache.Config{Capacity: 4 << 20}) }

// BenchmarkSetEvictingListened is SetEvicting with an OnRemove listener
// that does nothing: the cost of copying each evicted entry out for it.
func BenchmarkSetEvictingListened(b *testing.B) {
	benchSetEvicting(b, ringcache.Config{Capacity: 4 << 20, OnRemove: func([]byte, []byte, ringcache.RemovalCause) {}})
}

func benchSetEvicting(b *testing.B, cfg ringcache.Config) {
	c := newCache(b, cfg)
	key := make([]byte, 16)
	value := make([]byte, 128)
	b.ReportAllocs()
	i := uint64(0)
	for b.Loop() {
		binary.LittleEndian.PutUint64(key, i*0x9E3779B97F4A7C15)
		_ = c.Set(key, value)
		i++
	}
}

// BenchmarkParallel runs a read/write mix from GOMAXPROCS*8 goroutines.
func BenchmarkParallel(b *testing.B) {
	for _, mix := range []struct {
		name  string
		reads int // out of 100
	}{{"reads=100", 100}, {"reads=90", 90}, {"reads=50", 50}, {"reads=0", 0}} {
		b.Run(mix.name, func(b *testing.B) {
			c, keys := benchCache(b)
			var seed atomic.Uint32
			b.SetParallelism(8)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				value := make([]byte, 128)
				dst := make([]byte, 0, 256)
				i := seed.Add(0x9E3779B9) // distinct streams, or goroutines move in lockstep
				for pb.Next() {
					i = i*1664525 + 1013904223
					k := keys[i>>16&(benchKeys-1)]
					if int(i%100) < mix.reads {
						dst, _ = c.Get(dst[:0], k)
					} else {
						_ = c.Set(k, value)
					}
				}
			})
		})
	}
}

// BenchmarkGetOneKeyWithTTL is BenchmarkGetOneKey for an entry with an
// hour to live: a read judges its expiry, far from it, by the shared
// clock alone.
func BenchmarkGetOneKeyWithTTL(b *testing.B) {
	c := newCache(b, ringcache.Config{Capacity: 64 << 20})
	key := []byte("0123456789abcdef")
	if err := c.SetWithTTL(key, make([]byte, 128), time.Hour); err != nil {
		b.Fatal(err)
	}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		dst, _ = c.Get(dst[:0], key)
	}
}

func BenchmarkGetOrLoadHit(b *testing.B) {
	c, keys := benchCache(b)
	load := ringcache.LoadFunc(func(context.Context, []byte) ([]byte, time.Duration, error) {
		b.Fatal("a hit must not load")
		return nil, 0, nil
	})
	ctx := context.Background()
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		dst, _ = c.GetOrLoad(ctx, dst[:0], keys[i&(benchKeys-1)], load)
		i++
	}
}

// BenchmarkParallelZipf reads and writes Zipf-distributed keys (s = 0.99)
// from GOMAXPROCS*4 goroutines: the hottest keys share a few shards, so
// this measures what cores contend for, as the bench suite's throughput
// workload does, within one test binary for A/B runs.
func BenchmarkParallelZipf(b *testing.B) {
	for _, n := range []int{32 << 10, 1 << 20} {
		for _, reads := range []int{100, 90, 0} {
			b.Run(fmt.Sprintf("keys=%dk/reads=%d", n>>10, reads), func(b *testing.B) {
				c := newCache(b, ringcache.Config{Capacity: int64(n) * 2 * 144, AvgEntrySize: 144})
				keys := make([][]byte, n)
				value := make([]byte, 128)
				for i := range keys {
					keys[i] = binary.BigEndian.AppendUint64(make([]byte, 8, 16), uint64(i)*0x9E3779B97F4A7C15)
					keys[i] = append(keys[i], "-payload"...)
					if err := c.Set(keys[i], value); err != nil {
						b.Fatal(err)
					}
				}
				z := rand.NewZipf(rand.New(rand.NewPCG(1, 2)), 1.0001, 1, uint64(n-1))
				stream := make([]uint32, 1<<20)
				for i := range stream {
					stream[i] = uint32(z.Uint64())
				}
				var next atomic.Uint32
				b.ResetTimer()
				b.SetParallelism(4)
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					dst := make([]byte, 0, 256)
					pos := next.Add(1) * 0x9E3779B9
					for pb.Next() {
						pos++
						k := keys[stream[pos&(1<<20-1)]]
						if int(pos%100) < reads {
							dst, _ = c.Get(dst[:0], k)
						} else {
							_ = c.Set(k, value)
						}
					}
				})
				// What reading without the lock costs the policy and
				// the readers: hits it never heard of, and tries a write
				// overlapped.
				st := c.Stats()
				b.ReportMetric(float64(st.DroppedReads)/float64(b.N), "dropped/op")
				b.ReportMetric(float64(st.ReadRetries)/float64(b.N), "retries/op")
			})
		}
	}
}
