package tier

import (
	"context"
	"strconv"
	"testing"

	"github.com/ringcache/ringcache"
)

// A local hit against a plain ringcache.Get of the same entries: the two
// benchmarks run side by side (go test -bench 'LocalHit|RingcacheGet').
const benchKeys = 1024

func benchKeyset() [][]byte {
	keys := make([][]byte, benchKeys)
	for i := range keys {
		keys[i] = []byte("bench:" + strconv.Itoa(i))
	}
	return keys
}

func BenchmarkLocalHit(b *testing.B) {
	be := standaloneBackend(b)
	tr := newTier(b, testConfig(be))
	src := newSource()
	load := src.load
	keys := benchKeyset()
	ctx := context.Background()
	for _, k := range keys {
		if _, err := tr.GetOrLoad(ctx, nil, k, load); err != nil {
			b.Fatal(err)
		}
	}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := tr.GetOrLoad(ctx, dst, keys[i%benchKeys], load); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkRingcacheGet(b *testing.B) {
	c, err := ringcache.New(ringcache.Config{Capacity: 8 << 20, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	keys := benchKeyset()
	for _, k := range keys {
		if err := c.Set(k, encodeVersion(k, 0)); err != nil {
			b.Fatal(err)
		}
	}
	dst := make([]byte, 0, 256)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, ok := c.Get(dst, keys[i%benchKeys]); !ok {
			b.Fatal("miss")
		}
	}
}
