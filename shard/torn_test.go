package shard

import (
	"bytes"
	"runtime/metrics"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache/evict"
)

// What a reader without the lock may see of a shard that writers change,
// and what it must make of it.

// The lock-free probe compares keys, not only their tags: a key sharing
// another's 32-bit tag misses, and each key reads its own value.
func TestGetComparesKeysNotTags(t *testing.T) {
	a, b := collidingKeys(t)
	s := mappedShard(t, 64<<10, Options{AvgPayload: 64, Policy: evict.LRUK, K: 2})
	require.NoError(t, s.Set(Hash([]byte(a)), []byte(a), []byte("value of a"), 1, 0, false))
	v, o, _ := s.Get(nil, Hash([]byte(b)), []byte(b), 1, &head)
	require.Equal(t, Miss, o, "a key sharing a's tag must miss, got %q", v)
	require.NoError(t, s.Set(Hash([]byte(b)), []byte(b), []byte("value of b"), 1, 0, false))
	for k, want := range map[string]string{a: "value of a", b: "value of b"} {
		v, o, _ := s.Get(nil, Hash([]byte(k)), []byte(k), 1, &head)
		require.Equal(t, Hit, o)
		require.Equal(t, want, string(v))
	}
}

// recordAt returns the global offset of key's record.
func recordAt(t *testing.T, s *Shard, key []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	slot, g := s.find(uint32(Hash(key)), key)
	require.GreaterOrEqual(t, slot, 0)
	return g
}

// A header a writer is changing may say anything, and Get reads the
// sequence again after the header, before it trusts a length: a torn
// length never makes it copy, and so allocate, more than the value. A
// writer here scribbles a length of most of a 4 MiB shard into the header,
// inside a write section as every writer does, and restores it.
func TestGetTrustsNoLengthFromAHeaderBeingWritten(t *testing.T) {
	key, value := []byte("k"), bytes.Repeat([]byte("v"), 100)
	s := mappedShard(t, 4<<20, Options{AvgPayload: 64, Policy: evict.LRUK, K: 2})
	h := Hash(key)
	require.NoError(t, s.Set(h, key, value, 1, 0, false))
	g := recordAt(t, s, key)
	header := s.mem[g : g+HeaderSize]
	good := append([]byte(nil), header...)
	scribbled := append([]byte(nil), header...)
	writeFields(scribbled, len(key), len(s.mem)-g-HeaderSize-len(key)-1, 0, 0, scribbled[offFlags])

	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !stop.Load() {
			s.mu.Lock()
			s.beginWrite()
			copy(header, scribbled)
			for i := 0; i < 64 && !stop.Load(); i++ {
			}
			copy(header, good)
			s.endWrite()
			s.mu.Unlock()
			for i := 0; i < 256 && !stop.Load(); i++ {
			}
		}
	}()
	before := largeAllocs()
	dst := make([]byte, 0, len(value))
	// Read until many reads have overlapped the writer, however long a
	// loaded machine takes to run the two side by side.
	reads, overlapped := 0, 0
	deadline := time.Now().Add(2 * time.Minute)
	for ; reads < 200_000 || overlapped < 10_000; reads++ {
		out, o, _ := s.Get(dst, h, key, 1, &head)
		switch o {
		case Hit:
			require.Equal(t, value, out)
		case Locked:
			overlapped++
		}
		if reads%1024 == 0 {
			require.True(t, time.Now().Before(deadline), "only %d of %d reads overlapped the writer", overlapped, reads)
		}
	}
	allocated := largeAllocs() - before
	stop.Store(true)
	wg.Wait()
	t.Logf("%d of %d reads overlapped the writer and went to the lock; %d allocations over 32 KiB", overlapped, reads, allocated)
	require.Zero(t, allocated, "reads copied lengths from a torn header")
}

// largeAllocs counts the heap allocations past the largest size class
// (32 KiB) so far: the histogram's last bucket.
func largeAllocs() uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs-by-size:bytes"}}
	metrics.Read(sample)
	h := sample[0].Value.Float64Histogram()
	var n uint64
	for i, c := range h.Counts {
		if h.Buckets[i] >= 32<<10 {
			n += c
		}
	}
	return n
}

// Every change to a header that Get may read happens inside a write
// section: a reader that sees the same even sequence before and after two
// reads of a header sees the same header twice (but for the policy's
// CLOCK bits, which reads change under TryLock and Get ignores). Touch's
// Update and an overwrite in place change the header of a record that
// stays where it is.
func TestHeadersChangeOnlyInsideWriteSections(t *testing.T) {
	key := []byte("k")
	s, _, h := holding(t, string(key), bytes.Repeat([]byte("v"), 100))
	g := recordAt(t, s, key)
	header := s.mem[g : g+HeaderSize]
	masked := func(b []byte) []byte {
		c := append([]byte(nil), b...)
		c[offFlags] &^= evict.MetaBits
		return c
	}
	var stop atomic.Bool
	var writes atomic.Int64
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		value := bytes.Repeat([]byte("w"), 100)
		for n := int64(2); !stop.Load(); n++ {
			if n%2 == 0 {
				s.Update(h, key, 1, func(_ []byte, _ bool, _ int64) (int64, bool) { return n * 1000, true })
			} else {
				require.NoError(t, s.Set(h, key, value[:100-n%4], 1, n*1000, false))
			}
			writes.Add(1)
		}
	}()
	seen := 0
	deadline := time.Now().Add(2 * time.Minute)
	for i := 0; writes.Load() < 200_000; i++ {
		if i%1024 == 0 {
			require.True(t, time.Now().Before(deadline), "the writer made only %d writes", writes.Load())
		}
		q := s.seq.Load()
		first := masked(header)
		for i := 0; i < 500; i++ {
		}
		second := masked(header)
		if s.seq.Load() == q && q&1 == 0 {
			seen++
			require.Equal(t, first, second, "a header changed while the sequence said no write was open")
		}
	}
	stop.Store(true)
	wg.Wait()
	require.Equal(t, g, recordAt(t, s, key), "the record moved: the test watched the wrong bytes")
	require.Positive(t, seen)
	require.NoError(t, s.Check())
}

// A closed shard answers Get with Locked, whatever its memory still holds,
// so that the caller's locked read reports the miss.
func TestGetOfAClosedShardGoesToTheLock(t *testing.T) {
	s, k, h := holding(t, "k", []byte("v"))
	s.Close()
	_, o, _ := s.Get(nil, h, k, 1, &head)
	require.Equal(t, Locked, o)
	ok, _ := s.Read(h, k, 1, func([]byte, bool) bool { return true })
	require.False(t, ok)
}
