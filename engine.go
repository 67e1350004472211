package ringcache

import (
	"fmt"
	"math/bits"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/ringcache/ringcache/arena"
	"github.com/ringcache/ringcache/keyhash"
	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// engine is the core of a Cache: its shards and what every read and write
// of them shares. It knows nothing of loading; the loading layer
// (loading.go, loader.go) is built on it.
type engine struct {
	shards     []paddedShard
	shift      uint // a hash's top bits pick its shard: h >> shift
	hasher     keyhash.Hasher
	clock      *ttl.Clock
	defaultTTL time.Duration
	staleGrace time.Duration // how long past its freshness a framed value is kept
	jitter     *ttl.Jitter   // nil without Config.TTLJitter
	codecs     *codecs
	scratch    sync.Pool // *[]byte, for framing, decompressing and chunking
	maxEntry   int       // what one shard stores
	maxChunked int       // what the cache stores, in chunks past maxEntry
	maxKey     int       // the longest key stored with any value up to maxChunked
	capacity   int64
	onRemove   func(key, value []byte, cause RemovalCause) // Config.OnRemove
	saved      atomic.Uint64                               // bytes compression saved

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

// init maps the engine's memory (pages are committed by the OS as they
// are first written) and sets up its shards for cfg.
func (c *engine) init(cfg *Config) error {
	l, err := cfg.layout()
	if err != nil {
		return err
	}
	clock := cfg.Clock
	if clock == nil {
		clock = ttl.System()
	}
	l.shard.Clock = clock
	if cfg.OnRemove != nil {
		l.shard.OnRemove = c.removed
	}
	codecs, err := newCodecs(cfg.Compression)
	if err != nil {
		return fmt.Errorf("%w: compression: %w", ErrInvalidConfig, err)
	}
	region, err := arena.NewRegion(l.shards * l.shardBytes)
	if err != nil {
		codecs.close()
		return fmt.Errorf("%w: %w", ErrInvalidCapacity, err)
	}
	c.onRemove = cfg.OnRemove
	c.shards = make([]paddedShard, l.shards)
	c.shift = uint(64 - (bits.Len(uint(l.shards)) - 1)) // shards is a power of two
	c.hasher, c.clock, c.codecs, c.region = l.shard.Hasher, clock, codecs, region
	c.defaultTTL, c.staleGrace, c.capacity = cfg.DefaultTTL, cfg.StaleGrace, cfg.Capacity
	c.scratch.New = func() any { b := make([]byte, 0, 4096); return &b }
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
			return fmt.Errorf("%w: %w", ErrInvalidConfig, err)
		}
	}
	c.maxEntry = c.shards[0].MaxPayload()
	c.maxChunked = maxChunked(cfg.Capacity, len(c.shards), c.maxEntry)
	c.maxKey = maxChunkedKey(c.maxEntry, c.maxChunked)
	c.optimistic = region.Releasable()
	// The memory is unmapped once no call can be inside it, even when the
	// Cache is dropped without Close in the middle of one: every access
	// goes through a *shard.Shard, each Shard method mentions its receiver
	// after its last touch of the memory, and the shards are one
	// allocation, so the array stays reachable while any call runs.
	runtime.AddCleanup(&c.shards[0], func(r *arena.Region) { _ = r.Free() }, region)
	return nil
}

func (c *engine) shardFor(h uint64) *shard.Shard { return &c.shards[h>>c.shift].Shard }

// borrow lends a scratch buffer; giveBack returns it, with what it grew
// to.
func (c *engine) borrow() *[]byte     { return c.scratch.Get().(*[]byte) }
func (c *engine) giveBack(bp *[]byte) { c.scratch.Put(bp) }
func (c *engine) jittered(d time.Duration) time.Duration {
	if c.jitter == nil {
		return d
	}
	return c.jitter.Apply(d)
}

// engineExpiry is how long the engine keeps a framed value that is fresh
// until fresh: StaleGrace longer, so that stale-if-error has something to
// serve.
func (c *engine) engineExpiry(fresh int64) int64 { return ttl.Add(fresh, c.staleGrace) }

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
func (c *engine) MaxEntrySize() int { return c.maxChunked }

// MaxKeySize returns the longest key the cache stores: MaxKeyLen, or less
// where a shard holds less than that key and the head of a chunked value
// (57,351 bytes in a 64 MiB cache; MaxKeyLen from 128 MiB up). Longer keys
// are ErrKeyTooLarge, so that MaxEntrySize holds for every key.
func (c *engine) MaxKeySize() int { return c.maxKey }

// Len returns the number of entries held. It can include entries whose TTL
// has passed but that no operation has reclaimed yet; those are never
// returned by any read.
func (c *engine) Len() int {
	n := 0
	for i := range c.shards {
		n += c.shards[i].Len()
	}
	return n
}

// Clear removes every entry. Counters are kept. Loads in flight when Clear
// returns store nothing.
func (c *engine) Clear() {
	for i := range c.shards {
		c.shards[i].Clear()
	}
}

// close releases the engine's memory; it reports ErrClosed the second
// time.
func (c *engine) close() error {
	if c.closed.Swap(true) {
		return ErrClosed
	}
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
func (c *engine) Check() error {
	for i := range c.shards {
		if err := c.shards[i].Check(); err != nil {
			return fmt.Errorf("shard %d: %w", i, err)
		}
	}
	return nil
}
