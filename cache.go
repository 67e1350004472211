package ringcache

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ringcache/ringcache/arena"
	"github.com/ringcache/ringcache/keyhash"
	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// Cache is a sharded byte cache with a fixed memory budget. Create one with
// New; all methods are safe for concurrent use.
type Cache struct {
	shards     []paddedShard
	shift      uint // a hash's top bits pick its shard: h >> shift
	hasher     keyhash.Hasher
	clock      *ttl.Clock
	defaultTTL time.Duration
	jitter     *ttl.Jitter // nil without Config.TTLJitter
	codecs     *codecs
	maxEntry   int // what one shard stores
	maxChunked int // what the cache stores, in chunks past maxEntry
	maxKey     int // the longest key stored with any value up to maxChunked
	capacity   int64
	onRemove   func(key, value []byte, cause RemovalCause) // Config.OnRemove
	loading    loading

	closed atomic.Bool
	region *arena.Region
	// optimistic: Get reads without the shard lock (shard/optimistic.go).
	// It needs a region that Close can release without unmapping; the
	// mapping goes when the Cache is unreachable.
	optimistic bool
	hits       hitCount // Get's hits served without the lock
}

// paddedShard keeps neighbouring shards' locks off each other's cache lines.
type paddedShard struct {
	shard.Shard
	_ [128 - unsafe.Sizeof(shard.Shard{})%128]byte
}

// New returns a cache holding at most cfg.Capacity bytes. It maps all of
// the memory up front (pages are committed by the OS as they are first
// written) and fails with ErrInvalidCapacity, ErrInvalidConfig or
// ErrInvalidTTL for an unusable Config.
func New(cfg Config) (*Cache, error) {
	l, err := cfg.layout()
	if err != nil {
		return nil, err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = ttl.System()
	}
	l.shard.Clock = clock
	var c *Cache
	if cfg.OnRemove != nil {
		l.shard.OnRemove = func(key, value []byte, framed bool, cause shard.Cause) { c.removed(key, value, framed, cause) }
	}
	codecs, err := newCodecs(cfg.Compression)
	if err != nil {
		return nil, fmt.Errorf("%w: compression: %w", ErrInvalidConfig, err)
	}
	region, err := arena.NewRegion(l.shards * l.shardBytes)
	if err != nil {
		codecs.close()
		return nil, fmt.Errorf("%w: %w", ErrInvalidCapacity, err)
	}
	c = &Cache{
		onRemove:   cfg.OnRemove,
		shards:     make([]paddedShard, l.shards),
		shift:      uint(64 - (bits.Len(uint(l.shards)) - 1)), // shards is a power of two
		hasher:     l.shard.Hasher,
		clock:      clock,
		defaultTTL: cfg.DefaultTTL,
		codecs:     codecs,
		capacity:   cfg.Capacity,
		region:     region,
	}
	if cfg.TTLJitter > 0 {
		seed := cfg.Seed
		if seed == 0 {
			seed = uint64(time.Now().UnixNano())
		}
		c.jitter = ttl.NewJitter(cfg.TTLJitter, seed)
	}
	mem := region.Bytes()
	for i := range c.shards {
		part := mem[i*l.shardBytes : (i+1)*l.shardBytes : (i+1)*l.shardBytes]
		if err := c.shards[i].Init(part, l.shard); err != nil {
			_ = region.Free()
			codecs.close()
			return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	c.maxEntry = c.shards[0].MaxPayload()
	c.maxChunked = maxChunked(cfg.Capacity, len(c.shards), c.maxEntry)
	c.maxKey = maxChunkedKey(c.maxEntry, c.maxChunked)
	c.loading.init(&cfg)
	c.optimistic = region.Releasable()
	// The memory is unmapped once no call can be inside it, even when the
	// Cache is dropped without Close in the middle of one: every access
	// goes through a *shard.Shard, each Shard method mentions its receiver
	// after its last touch of the memory, and the shards are one
	// allocation, so the array stays reachable while any call runs.
	runtime.AddCleanup(&c.shards[0], func(r *arena.Region) { _ = r.Free() }, region)
	return c, nil
}

func (c *Cache) shardFor(h uint64) *shard.Shard { return &c.shards[h>>c.shift].Shard }

// MaxEntrySize returns the largest len(key)+len(value) the cache stores:
// an eighth of Capacity (in at most one chunk per shard besides the
// key's), or what one shard holds of a loaded value (a quarter of its
// main ring, at most 16 MiB - 1, less an 11-byte frame) when that is
// more. Entries larger than one
// shard holds are stored in chunks across shards (see chunks.go), each
// verified when read.
//
// The limit is exact: every key of at most MaxKeySize bytes is stored
// with any value that brings the sum to MaxEntrySize, and one byte more
// is ErrEntryTooLarge.
func (c *Cache) MaxEntrySize() int { return c.maxChunked }

// MaxKeySize returns the longest key the cache stores: MaxKeyLen, or less
// where a shard holds less than that key and the head of a chunked value
// (57,351 bytes in a 64 MiB cache; MaxKeyLen from 128 MiB up). Longer keys
// are ErrKeyTooLarge, so that MaxEntrySize holds for every key.
func (c *Cache) MaxKeySize() int { return c.maxKey }

// Set stores value under key with Config.DefaultTTL, replacing any earlier
// value. See SetWithTTL.
func (c *Cache) Set(key, value []byte) error {
	return c.set(key, value, c.defaultTTL)
}

// SetWithTTL stores value under key, expiring after ttl (0 = never),
// replacing any earlier value (a negative-cache tombstone included) at once
// for every reader. The cache copies both slices. TTLs get Config.TTLJitter
// applied, are rounded up to whole milliseconds, and an expiry more than
// about 34 years after New is clamped to that limit.
//
// Errors: ErrInvalidTTL for a negative ttl, ErrKeyTooLarge (see
// MaxKeySize), ErrEntryTooLarge (see MaxEntrySize), ErrClosed. A failed Set leaves any earlier value in
// place. A successful one may evict other entries to make room.
func (c *Cache) SetWithTTL(key, value []byte, ttl time.Duration) error {
	return c.set(key, value, ttl)
}

func (c *Cache) set(key, value []byte, d time.Duration) error {
	switch {
	case d < 0:
		return ErrInvalidTTL
	case len(key) > c.maxKey:
		return ErrKeyTooLarge
	case len(key)+len(value) > c.maxChunked:
		return ErrEntryTooLarge
	}
	d = c.jittered(d)
	h := c.hasher.Sum(key)
	s := c.shardFor(h)
	now := c.clock.Now()
	expiry := ttl.Stamp(now, d)
	if len(key)+len(value) > c.maxEntry {
		_, err := c.setChunked(h, key, value, frame{fresh: expiry, born: now}, expiry, false, 0)
		return err
	}
	if !c.codecs.wants(len(value)) {
		return s.Set(h, key, value, now, expiry, false)
	}
	return c.setCompressed(s, h, key, value, now, expiry)
}

// setCompressed is set for a value worth trying compressed. The limit is
// on what the caller gives, not on what it compresses to: whether a value
// fits must not depend on its contents.
func (c *Cache) setCompressed(s *shard.Shard, h uint64, key, value []byte, now, expiry int64) error {
	bp := c.codecs.buffers.Get().(*[]byte)
	defer c.codecs.buffers.Put(bp)
	b, saved := c.codecs.frame((*bp)[:0], value, frame{kind: kindValue, fresh: expiry, born: now})
	*bp = b
	if saved <= frameSize {
		// The frame would take what compression saved: a plain write
		// needs none, and is no larger.
		return s.Set(h, key, value, now, expiry, false)
	}
	err := s.Set(h, key, b, now, expiry, true)
	if err == nil {
		c.loading.stats.compressedSaved.Add(uint64(saved))
	}
	return err
}

// fill stores a loaded value (or tombstone) behind its frame, compressed
// when that saves space, unless a write of the key came since gen was
// read: see Shard.Fill. A load whose result is not stored is counted.
func (c *Cache) fill(h uint64, key, value []byte, now int64, f frame, expiry int64, gen uint32) error {
	if len(key)+frameSize+len(value) > c.maxEntry {
		stored, err := c.setChunked(h, key, value, f, expiry, true, gen)
		if !stored && err == nil {
			c.loading.stats.discarded.Add(1)
		}
		return err
	}
	bp := c.codecs.buffers.Get().(*[]byte)
	defer c.codecs.buffers.Put(bp)
	b, saved := c.codecs.frame((*bp)[:0], value, f)
	*bp = b
	stored, err := c.shardFor(h).Fill(h, key, b, now, expiry, true, gen)
	switch {
	case stored:
		c.loading.stats.compressedSaved.Add(uint64(saved))
	case err == nil:
		c.loading.stats.discarded.Add(1)
	}
	return err
}

func (c *Cache) jittered(d time.Duration) time.Duration {
	if c.jitter == nil {
		return d
	}
	return c.jitter.Apply(d)
}

// Delete removes key and reports whether it held a live entry: one a Get
// would have returned. It removes a negative-cache tombstone and a value
// kept only for stale-if-error too, and reports false for them. A load of
// key in flight when Delete returns stores nothing (see GetOrLoad).
func (c *Cache) Delete(key []byte) bool {
	h := c.hasher.Sum(key)
	now := c.clock.Now()
	var big chunked
	live := c.shardFor(h).Delete(h, key, now, func(v []byte, framed bool) bool {
		_, _, ok := c.served(v, framed, now)
		return ok || big.seen(c.clock, v, framed, now)
	})
	if big.m.chunks > 0 {
		// A value with a chunk gone was no longer one a Get returns.
		live = live && c.chunksPresent(h, big, now)
		c.dropChunks(h, big.m, big.m.chunks)
	}
	return live
}

// Touch gives key's live entry a new lifetime of d from now (0 = never
// expires; Config.TTLJitter applies) and reports whether there was one. A
// negative d changes nothing and returns false.
func (c *Cache) Touch(key []byte, d time.Duration) bool {
	if d < 0 {
		return false
	}
	d = c.jittered(d)
	h := c.hasher.Sum(key)
	now := c.clock.Now()
	fresh := ttl.Stamp(now, d)
	var big chunked
	ok := c.shardFor(h).Update(h, key, now, func(v []byte, framed bool, _ int64) (int64, bool) {
		switch _, _, ok := c.served(v, framed, now); {
		case !ok && !big.seen(c.clock, v, framed, now):
			return 0, false
		case !framed:
			return fresh, true
		}
		ttl.PutStamp(v[1:], fresh)
		return c.loading.engineExpiry(fresh), true
	})
	if ok && big.m.chunks > 0 {
		if !c.chunksPresent(h, big, now) {
			return false // a Get would miss: there is nothing to touch
		}
		c.touchChunks(h, big, fresh, c.loading.engineExpiry(fresh))
	}
	return ok
}

// Len returns the number of entries held. It can include entries whose TTL
// has passed but that no operation has reclaimed yet; those are never
// returned by any read.
func (c *Cache) Len() int {
	n := 0
	for i := range c.shards {
		n += c.shards[i].Len()
	}
	return n
}

// Clear removes every entry. Counters are kept. Loads in flight when Clear
// returns store nothing.
func (c *Cache) Clear() {
	for i := range c.shards {
		c.shards[i].Clear()
	}
}

// Close releases the cache's memory. Afterwards reads miss and writes
// return ErrClosed; a second Close returns ErrClosed.
func (c *Cache) Close() error {
	if c.closed.Swap(true) {
		return ErrClosed
	}
	c.loading.close()
	for i := range c.shards {
		c.shards[i].Close()
	}
	c.codecs.close()
	if c.optimistic {
		// A Get may still be copying from it: its pages go now and read
		// as zeros, its addresses when the Cache is unreachable.
		return c.region.Release()
	}
	// No shard touches the region any more: each checks its open flag
	// under the lock Close just released.
	return c.region.Free()
}

// Check verifies the engine invariants of every shard (ring and index
// agree, byte counts match, every index entry is reachable) and returns the
// first violation. It locks each shard in turn and walks all its entries,
// allocating as it goes: it is meant for tests and fuzzers, not hot paths.
func (c *Cache) Check() error {
	for i := range c.shards {
		if err := c.shards[i].Check(); err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
	}
	return nil
}
