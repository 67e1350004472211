package ringcache_test

import (
	"bytes"
	"context"
	"runtime"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// collecting runs runtime.GC in a loop until the test ends, so that an
// unreachable Cache is collected, and its cleanup run, as soon as it can be.
func collecting(t *testing.T) {
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
				runtime.GC()
			}
		}
	}()
	t.Cleanup(func() { close(stop); wg.Wait() })
}

// fullOneShard returns a one-shard cache full of small entries, so that a
// large write evicts thousands of them.
func fullOneShard(t *testing.T) *ringcache.Cache {
	c, err := ringcache.New(ringcache.Config{Capacity: 4 << 20, Shards: 1, Seed: 1})
	require.NoError(t, err)
	key := make([]byte, 16)
	for i := range 60000 {
		key[0], key[1], key[2] = byte(i), byte(i>>8), byte(i>>16)
		require.NoError(t, c.Set(key[:8], key))
	}
	return c
}

// A Cache dropped without Close while one of its methods runs keeps its
// memory until the method returns: the mapping is freed only when no call
// can be inside it. Each round's last use of c is a call that works for a
// while after choosing its shard; the GC may collect c during it.
func TestCacheDroppedMidCallDoesNotFault(t *testing.T) {
	collecting(t)
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i)
	}
	t.Run("Set", func(t *testing.T) {
		for range 20 {
			c := fullOneShard(t)
			require.NoError(t, c.Set([]byte("big"), big[:c.MaxEntrySize()-3]))
		}
	})
	t.Run("Get", func(t *testing.T) {
		var buf []byte
		for range 20 {
			c := fullOneShard(t)
			n := c.MaxEntrySize() - 3
			require.NoError(t, c.Set([]byte("big"), big[:n]))
			var ok bool
			buf, ok = c.Get(buf[:0], []byte("big"))
			require.True(t, ok)
			require.Equal(t, big[:n], buf)
		}
	})
}

// A read whose dst has the key in its spare capacity (buf[:0] for a key in
// buf) neither reads another key nor corrupts the shard: the value goes
// to a new array and the key stays as it was.
func TestReadsWithDstOverTheKey(t *testing.T) {
	c, clock, db := loaderCache(t, ringcache.Config{StaleGrace: time.Minute, Shards: 1})
	const key = "user:1"
	long := string(bytes.Repeat([]byte("v"), 64)) // longer than the key and its frame
	db.set(key, long)
	_, err := getOrLoad(t, c, db, key)
	require.NoError(t, err)
	clock.Advance(2 * time.Minute) // stale: a lock-free read copies it, then refuses it
	db.set(key, "bob")

	buf := make([]byte, 0, 256)
	buf = append(buf, key...)
	var loaded []string
	v, err := c.GetOrLoad(context.Background(), buf[:0], buf[:len(key)],
		func(_ context.Context, k []byte) ([]byte, time.Duration, error) {
			loaded = append(loaded, string(k))
			return []byte("bob"), time.Minute, nil
		})
	require.NoError(t, err)
	require.Equal(t, "bob", string(v))
	require.Equal(t, []string{key}, loaded, "the loader is called with the key")
	require.Equal(t, key, string(buf[:len(key)]), "the key is left as it was")
	require.NoError(t, c.Check())

	require.NoError(t, c.Set([]byte(key), []byte(long)))
	v, ok := c.Get(buf[:0], buf[:len(key)])
	require.True(t, ok)
	require.Equal(t, long, string(v))
	require.Equal(t, key, string(buf[:len(key)]))
	require.NoError(t, c.Check())

	// A dst whose spare room starts past the key appends in place.
	v, ok = c.Get(buf[:len(key)], buf[:len(key)])
	require.True(t, ok)
	require.Equal(t, key+long, string(v))
	require.Equal(t, unsafe.SliceData(buf), unsafe.SliceData(v))
}
