package ringcache_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

func TestHotPathsDoNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates on its own")
	}
	c := newCache(t, ringcache.Config{Capacity: 8 << 20})
	small := newCache(t, ringcache.Config{Capacity: 64 << 10})
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
	} {
		require.Zero(t, testing.AllocsPerRun(2000, op), "%s allocates", name)
	}
	require.Positive(t, small.Stats().Evictions)
}
