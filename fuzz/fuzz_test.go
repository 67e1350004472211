package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// FuzzShard drives one small shard, so that every few operations wrap a
// ring, evict, promote, or fill the index. The first byte picks the shard's
// size, its index sizing, its policy, and whether the tuner chooses
// probation's size and K every few sampled reads, which moves the
// boundary between the rings (adoption, fillers) all the time.
func FuzzShard(f *testing.F) {
	f.Add([]byte("\x00\x01\x00\x10\x00\x02\x01\x02\x01"))
	f.Add([]byte("\x07\x00\x03\xff\x03\x01\x04\x10\x20\x06\x04\x30\x02\x04\x04\x03"))
	// A load begins, the key is written, the load finishes: it must not
	// be stored.
	f.Add([]byte("\x00\x07\x01\x01\x00\x01\x10\x00\x07\x01\x01\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		o := shard.Options{
			AvgPayload: 8 << (data[0] >> 4 % 8), // 8 to 1024 bytes
			Policy:     evict.Kind(data[0] >> 3 & 1),
			K:          1 + int(data[0]>>2&1),
		}
		if data[0]&0x80 != 0 {
			o.TunePeriod = 3
		}
		size := 1024 << (data[0] % 4) // 1 to 8 KiB
		clock := ttl.NewManualClock()
		e, err := newShardEngine(size, o, clock)
		if err != nil {
			t.Fatal(err)
		}
		if err := run(data[1:], e, clock); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzCache drives a whole Cache of one to four shards through its public
// API, with and without compression (framed values).
func FuzzCache(f *testing.F) {
	f.Add([]byte("\x00\x00\x01\x00\x10\x00\x02\x01\x02\x01"))
	f.Add([]byte("\x02\x01\x05\x10\x01\x05\x20\x03\x06\x02\x05\x09\x02\x05"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		clock := ttl.NewManualClock()
		// A listener that uses the cache: it would deadlock if called
		// under one of the cache's locks.
		var c *ringcache.Cache
		listen := func(key, _ []byte, cause ringcache.RemovalCause) {
			if cause < ringcache.Evicted || cause > ringcache.Cleared {
				panic(fmt.Sprintf("removal of %q with cause %d", key, cause))
			}
			c.Has(key)
		}
		c, err := ringcache.New(ringcache.Config{
			OnRemove:     listen,
			Capacity:     int64(ringcache.MinCapacity) << (data[0] % 4),
			Shards:       1 << (data[0] >> 4 % 3),
			AvgEntrySize: 16 << (data[0] >> 6),
			Policy:       ringcache.Policy(data[0] >> 2 & 1),
			Compression:  ringcache.Compression{Codec: ringcache.Codec(data[0] >> 3 & 1), MinSize: 64},
			Clock:        clock,
			Seed:         1, // the same input, the same run
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(data)%2 == 0 {
			// Half the caches are dropped without Close: their memory goes
			// when the GC finds them unreachable.
			defer c.Close()
		}
		if err := run(data[1:], cacheEngine{c}, clock); err != nil {
			t.Fatal(err)
		}
	})
}

// FuzzLimits checks that MaxEntrySize is exact for one key length in a
// cache of a fuzzed capacity and shard count: the key with a value that
// brings the sum to the limit is stored and read back, through Set and
// through a load, and one byte more is refused. Keys past MaxKeySize are
// refused as such.
func FuzzLimits(f *testing.F) {
	f.Add(uint8(0), uint8(0), uint16(0))
	f.Add(uint8(1), uint8(2), uint16(202))
	f.Add(uint8(14), uint8(0), uint16(57_400))
	f.Add(uint8(14), uint8(0), uint16(60_000))
	f.Fuzz(func(t *testing.T, capLog, shardsLog uint8, keyLen uint16) {
		capacity := int64(ringcache.MinCapacity) << (capLog % 15) // 4 KiB to 64 MiB
		shards := 0
		if shardsLog%10 != 0 {
			shards = 1 << (shardsLog % 10)
		}
		c, err := ringcache.New(ringcache.Config{Capacity: capacity, Shards: shards, Seed: 1})
		if errors.Is(err, ringcache.ErrInvalidConfig) {
			return // too many shards for the capacity
		}
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := checkLimits(c, int(keyLen)); err != nil {
			t.Fatalf("%d bytes, %d shards: %v", capacity, shards, err)
		}
	})
}

// FuzzSnapshot feeds ReadFrom arbitrary bytes: it returns nil or an error
// wrapping ErrCorrupt, never panics, leaves the cache's invariants whole,
// and what it loaded saves and loads again unchanged.
func FuzzSnapshot(f *testing.F) {
	seed, err := ringcache.New(ringcache.Config{Capacity: ringcache.MinCapacity, Compression: ringcache.Compression{Codec: ringcache.S2, MinSize: 16}})
	if err != nil {
		f.Fatal(err)
	}
	for i := range 20 {
		_ = seed.Set([]byte("key"+strconv.Itoa(i)), bytes.Repeat([]byte{'v'}, 4*i))
	}
	_, _ = seed.SetIfNewer([]byte("versioned"), []byte("v"), 3, time.Hour)
	var good bytes.Buffer
	if _, err := seed.WriteTo(&good); err != nil {
		f.Fatal(err)
	}
	_ = seed.Close()
	f.Add(good.Bytes())
	f.Add(good.Bytes()[:40])
	f.Add([]byte("RINGCASH\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		load := func(b []byte) (*ringcache.Cache, map[string]string) {
			c, err := ringcache.New(ringcache.Config{Capacity: ringcache.MinCapacity, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.ReadFrom(bytes.NewReader(b)); err != nil && !errors.Is(err, ringcache.ErrCorrupt) {
				t.Fatalf("ReadFrom: %v, not ErrCorrupt", err)
			}
			if err := c.Check(); err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for k, v := range c.All() {
				got[string(k)] = string(v)
			}
			return c, got
		}
		c, first := load(data)
		defer c.Close()
		var again bytes.Buffer
		if _, err := c.WriteTo(&again); err != nil {
			t.Fatal(err)
		}
		d, second := load(again.Bytes())
		defer d.Close()
		if len(first) != len(second) {
			t.Fatalf("saved %d entries, loaded %d", len(first), len(second))
		}
		for k, v := range first {
			if second[k] != v {
				t.Fatalf("%q: %q saved, %q loaded", k, v, second[k])
			}
		}
	})
}
