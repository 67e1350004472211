package ringcache_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

func TestHotPathsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	c := newCache(t, ringcache.Config{Capacity: 8 << 20})
	small := newCache(t, ringcache.Config{Capacity: 64 << 10})
	compressing := newCache(t, ringcache.Config{Capacity: 8 << 20, Compression: ringcache.Compression{Codec: ringcache.Zstd}})
	keys := make([][]byte, 4096)
	for i := range keys {
		keys[i] = []byte(fmt.Sprintf("key-%011d", i))
	}
	value := make([]byte, 128)
	dst := make([]byte, 0, 256)
	i := 0
	next := func() []byte { i++; return keys[i%len(keys)] }
	for _, k := range keys {
		require.NoError(t, c.Set(k, value))
	}
	sink := 0
	ctx := context.Background()
	loadWith := func(context.Context, []byte, int) ([]byte, time.Duration, error) { return value, 0, nil }
	held := []byte("not among the keys that Delete removes")
	require.NoError(t, c.Set(held, value))
	// A loaded value carries a frame; a dst with room for the value alone
	// must still take it without growing.
	loaded := []byte("loaded, framed")
	load := func(context.Context, []byte) ([]byte, time.Duration, error) { return value, time.Hour, nil }
	_, err := c.GetOrLoad(ctx, nil, loaded, load)
	require.NoError(t, err)
	exact := make([]byte, 0, len(value))
	for name, op := range map[string]func(){
		"Set":          func() { _ = c.Set(next(), value) },
		"SetWithTTL":   func() { _ = c.SetWithTTL(next(), value, time.Minute) },
		"Get":          func() { dst, _ = c.Get(dst[:0], next()) },
		"GetFunc":      func() { c.GetFunc(next(), func(v []byte) { sink += len(v) }) },
		"Has":          func() { c.Has(next()) },
		"TTL":          func() { c.TTL(next()) },
		"Touch":        func() { c.Touch(next(), time.Minute) },
		"Delete":       func() { c.Delete(next()) },
		"Set evicting": func() { _ = small.Set(next(), value) },
		// A wrapper's argument, different on every call, is bound only
		// on a miss.
		"GetOrLoadWith hit": func() { dst, _ = ringcache.GetOrLoadWith(c, ctx, dst[:0], held, loadWith, i) },
		"GetOrLoad hit of a framed value, dst of its size": func() { exact, _ = c.GetOrLoad(ctx, exact[:0], loaded, load) },
		"Get of a framed value, dst of its size":           func() { exact, _ = c.Get(exact[:0], loaded) },
		// A value built per call must stay on the caller's stack: Set
		// must not let it escape, with compression on or off.
		"Set of a fresh value":                 func() { _ = c.Set(next(), make([]byte, 8)) },
		"SetWithTTL of a fresh value":          func() { _ = c.SetWithTTL(next(), make([]byte, 8), time.Minute) },
		"Set of a fresh value, compression on": func() { _ = compressing.Set(next(), make([]byte, 8)) },
		// Nor may Get move a caller's stack buffer onto the heap.
		"Get into a fresh buffer": func() {
			var buf [256]byte
			_, _ = c.Get(buf[:0], next())
		},
		"Get into a fresh buffer, compression on": func() {
			var buf [256]byte
			_, _ = compressing.Get(buf[:0], next())
		},
	} {
		require.Zero(t, testing.AllocsPerRun(2000, op), "%s allocates", name)
	}
	require.Positive(t, small.Stats().Evictions)
}

// A caller with string keys passes their bytes as the package doc shows:
// no call allocates for the key, however long.
func TestStringKeysAllocateNothing(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	c := newCache(t, ringcache.Config{Capacity: 1 << 20})
	name := strings.Repeat("a long key held as a string ", 8)
	key := func(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
	value := []byte("value")
	buf := make([]byte, 0, 64)
	ctx := context.Background()
	load := func(context.Context, []byte) ([]byte, time.Duration, error) { return value, 0, nil }
	_, err := c.GetOrLoad(ctx, nil, key(name), load)
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1000, func() {
		_ = c.Set(key(name), value)
		if v, ok := c.Get(buf[:0], key(name)); !ok || string(v) != "value" {
			t.Fatal("lost")
		}
		_, _ = c.GetOrLoad(ctx, buf[:0], key(name), load)
		c.Has(key(name))
		c.Delete(key(name))
	})
	require.Zero(t, allocs)
	require.Equal(t, name, strings.Repeat("a long key held as a string ", 8), "the key was not modified")
}
