package ringcache

import (
	"fmt"
	"math"
	"math/bits"
	"time"

	"github.com/ringcache/ringcache/bloom"
	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/keyhash"
	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// The configuration: what New accepts, and how it lays out the shards.

const (
	// MinCapacity is the smallest Config.Capacity New accepts.
	MinCapacity = 4 << 10
	// MaxCapacity is the largest Config.Capacity New accepts.
	MaxCapacity = 1 << 40
	// MaxKeyLen is the longest key the cache stores.
	MaxKeyLen = shard.MaxKeyLen
	// DefaultShards is the shard count of a cache large enough to use it.
	DefaultShards = 256
	// DefaultAvgEntrySize is the Config.AvgEntrySize used when it is zero.
	DefaultAvgEntrySize = 128

	// minShardBytes is the smallest shard the default shard count makes:
	// below it, fewer shards keep entries up to a quarter of a shard large.
	minShardBytes = 256 << 10
	maxShards     = 1 << 16
	// maxShardBytes keeps ring offsets within 32 bits.
	maxShardBytes = 4<<30 - 64
)

// AdaptiveTTL makes the TTL of loaded entries follow the key's access
// history: Min for keys not read recently, Max for keys read HotReads
// (8) or more times recently, linear in between. It replaces the TTL the
// loader returns. The zero value is off; when Max is set, Min must be
// above zero (New returns ErrInvalidTTL otherwise).
type AdaptiveTTL struct {
	// Min is the TTL of a key not read recently: above zero.
	Min time.Duration
	// Max is the TTL of a key read HotReads times or more recently; zero
	// turns AdaptiveTTL off.
	Max time.Duration
}

// HotReads is the number of recent reads at which AdaptiveTTL gives Max.
const HotReads = ttl.HotReads

// DefaultRefreshWorkers is Config.RefreshWorkers when zero.
const DefaultRefreshWorkers = 4

// DefaultRefreshTimeout is Config.RefreshTimeout when zero.
const DefaultRefreshTimeout = 30 * time.Second

// Config sets up a Cache. The zero value of every field but Capacity is a
// sensible default.
type Config struct {
	// Capacity is the cache's memory in bytes: ring arenas, index and
	// per-entry metadata, all of it. It is allocated once by New, outside
	// the Go heap where the OS allows, and is never exceeded. Required,
	// from MinCapacity to MaxCapacity.
	Capacity int64

	// Shards is the number of independently locked partitions: a power of
	// two up to 65,536. Zero picks DefaultShards, or fewer when that would
	// make shards smaller than 256 KiB, or more when it would make them
	// larger than 4 GiB (caches over 1 TiB). An entry of up to a quarter
	// of a shard is stored in one piece; larger ones go in chunks, one per
	// shard (see Cache.MaxEntrySize).
	Shards int

	// DefaultTTL is the lifetime Set gives entries. Zero means entries do
	// not expire; negative is ErrInvalidTTL.
	DefaultTTL time.Duration

	// AvgEntrySize is the expected average of len(key)+len(value): where
	// each shard's split between index slots and ring bytes starts. It is
	// a starting point, not a limit: a shard whose index fills while its
	// rings have room, or the other way round, moves the split to fit the
	// entries it holds (Stats.Replans counts the moves). A right hint
	// saves those moves. Zero means DefaultAvgEntrySize.
	AvgEntrySize int

	// Policy chooses what the cache keeps when full. The zero value is
	// LRUK: new keys wait in a probation ring (2% of each shard to start,
	// adapting to the workload) and
	// earn the main ring by their K-th recent read, or by being read more
	// often than the entry main would evict; scans and one-hit wonders
	// churn probation only. FIFO is one ring with second chance, for
	// comparison. See docs/admission.md.
	Policy Policy

	// K is the number of recent reads that earns a new key its place in
	// main under LRUK when main is full, at the start: each shard's tuner
	// then chooses it from six values between 1 and 2K (at most 16) by
	// simulating them, since no one K suits every workload
	// (docs/admission.md).
	// Zero means DefaultK. Reads are Get, GetFunc and GetOrLoad calls,
	// hits or misses; writes do not count.
	K int

	// TTLJitter spreads every write's TTL (explicit ones, DefaultTTL,
	// loaded ones, NegativeTTL) uniformly over ±TTLJitter of its length, so
	// entries written together do not expire together: 0.1 means ±10%.
	// From 0 (off) to below 1.
	TTLJitter float64

	// Seed keys the hash that places keys in shards, index slots and the
	// admission sketch, and seeds the jitter's generator. Zero (the
	// default) draws a secret random key per cache, so that nobody can
	// pick keys offline that pile into one shard or one probe run. A fixed
	// Seed makes a cache's layout and decisions the same in every run, for
	// reproducible tests and benchmarks: keep it secret where keys come
	// from untrusted sources.
	Seed uint64

	// Compression stores values of at least Compression.MinSize bytes
	// compressed when that saves space, transparently to every read.
	Compression Compression

	// OnRemove, when set, is told of each entry that leaves the cache
	// and why (see RemovalCause). It runs on the goroutine whose call
	// removed the entry, after that call released every lock of the
	// cache, so it may call the cache; the slices are valid during the
	// call only and must not be modified. An expired entry is reported
	// when the cache finds it: a read, a write or a Delete of its key,
	// or reclaiming its bytes for new entries, whichever comes first.
	// The value is the one a read would have returned (decompressed; a
	// value in chunks whole, or nil when its chunks are gone); the
	// loading layer's tombstones are not reported, nor are entries
	// dropped by Close. With no listener the cache copies nothing.
	OnRemove func(key, value []byte, cause RemovalCause)

	// NegativeTTL is how long GetOrLoad remembers that a key does not
	// exist (its loader returned ErrNotFound). Zero turns negative caching
	// off.
	NegativeTTL time.Duration

	// ErrorTTL is how long GetOrLoad remembers a loader's failure and
	// returns it without calling the loader again. Zero (the default)
	// caches no errors.
	ErrorTTL time.Duration

	// StaleGrace keeps loaded values this long past their TTL, to be
	// served by GetOrLoad when a reload fails (stale-if-error). Plain reads
	// never see them. Zero turns it off.
	StaleGrace time.Duration

	// RefreshAhead is the last part of a loaded entry's life, as a
	// fraction from 0 (off) to below 1, in which a GetOrLoad hit also
	// reloads the entry in the background (stale-while-revalidate).
	RefreshAhead float64

	// RefreshWorkers bounds the background refreshes running at once;
	// zero means DefaultRefreshWorkers. A refresh due while all are busy
	// is skipped (the next hit tries again).
	RefreshWorkers int

	// RefreshTimeout bounds each background refresh; zero means
	// DefaultRefreshTimeout.
	RefreshTimeout time.Duration

	// AdaptiveTTL, when its Max is set, makes the TTL of loaded entries
	// follow the key's recent reads (see AdaptiveTTL). It needs the LRUK
	// policy's history; under FIFO every key counts as cold.
	AdaptiveTTL AdaptiveTTL

	// Guard, when set, is a Bloom filter of the keys that can exist (for
	// example, filled from the database's ids): GetOrLoad answers
	// ErrNotFound for a key it rules out without calling the loader.
	// Replace it at run time with Cache.SetGuard.
	Guard *bloom.Filter

	// Clock is the time source for expiry. Nil means ttl.System(), the
	// process's shared clock, which ticks only while caches are read and
	// costs nothing when idle. Tests pass ttl.NewManualClock() to control
	// time.
	Clock *ttl.Clock
}

// Policy names an eviction and admission policy.
type Policy uint8

// Policies.
const (
	// LRUK admits new keys to main only by their K-th recent read, or by
	// being read more often than main's victim (the default).
	LRUK Policy = Policy(evict.LRUK)
	// FIFO keeps one ring in write order and spares entries read since
	// the hand last passed them (second chance): for comparison.
	FIFO Policy = Policy(evict.FIFO)
)

// String returns "LRUK" or "FIFO".
func (p Policy) String() string { return evict.Kind(p).String() }

// DefaultK is the K LRUK starts from when Config.K is zero.
const DefaultK = 3

// layout is a validated Config resolved to the numbers New builds from.
type layout struct {
	shards     int
	shardBytes int
	shard      shard.Options
}

func (cfg *Config) layout() (layout, error) {
	if cfg.Capacity < MinCapacity || cfg.Capacity > MaxCapacity {
		return layout{}, fmt.Errorf("%w: %d bytes, want %d to %d", ErrInvalidCapacity, cfg.Capacity, MinCapacity, int64(MaxCapacity))
	}
	if cfg.Capacity > math.MaxInt {
		return layout{}, fmt.Errorf("%w: %d bytes is more than a %d-bit platform addresses", ErrInvalidCapacity, cfg.Capacity, bits.UintSize)
	}
	if cfg.DefaultTTL < 0 {
		return layout{}, fmt.Errorf("%w: DefaultTTL %v is negative", ErrInvalidTTL, cfg.DefaultTTL)
	}
	if cfg.AvgEntrySize < 0 || cfg.AvgEntrySize > shard.MaxKeyLen+shard.MaxValueLen {
		return layout{}, fmt.Errorf("%w: AvgEntrySize %d", ErrInvalidConfig, cfg.AvgEntrySize)
	}
	for name, d := range map[string]time.Duration{
		"NegativeTTL": cfg.NegativeTTL, "ErrorTTL": cfg.ErrorTTL, "StaleGrace": cfg.StaleGrace,
		"RefreshTimeout": cfg.RefreshTimeout, "AdaptiveTTL.Min": cfg.AdaptiveTTL.Min, "AdaptiveTTL.Max": cfg.AdaptiveTTL.Max,
	} {
		if d < 0 {
			return layout{}, fmt.Errorf("%w: %s %v is negative", ErrInvalidTTL, name, d)
		}
	}
	if cfg.AdaptiveTTL.Max > 0 && (cfg.AdaptiveTTL.Min <= 0 || cfg.AdaptiveTTL.Min > cfg.AdaptiveTTL.Max) {
		// A Min of 0 would be "never expires" for cold keys.
		return layout{}, fmt.Errorf("%w: AdaptiveTTL.Min %v, want above 0 and at most Max %v", ErrInvalidTTL, cfg.AdaptiveTTL.Min, cfg.AdaptiveTTL.Max)
	}
	if !(cfg.TTLJitter >= 0 && cfg.TTLJitter < 1) {
		return layout{}, fmt.Errorf("%w: TTLJitter %v, want 0 to below 1", ErrInvalidConfig, cfg.TTLJitter)
	}
	if !(cfg.RefreshAhead >= 0 && cfg.RefreshAhead < 1) {
		return layout{}, fmt.Errorf("%w: RefreshAhead %v, want 0 to below 1", ErrInvalidConfig, cfg.RefreshAhead)
	}
	if cfg.RefreshWorkers < 0 {
		return layout{}, fmt.Errorf("%w: RefreshWorkers %d is negative", ErrInvalidConfig, cfg.RefreshWorkers)
	}
	if cfg.Compression.Codec > Zstd || cfg.Compression.MinSize < 0 {
		return layout{}, fmt.Errorf("%w: Compression %+v", ErrInvalidConfig, cfg.Compression)
	}
	if cfg.Policy != LRUK && cfg.Policy != FIFO {
		return layout{}, fmt.Errorf("%w: unknown Policy %d", ErrInvalidConfig, cfg.Policy)
	}
	if cfg.K < 0 || cfg.K > 15 {
		return layout{}, fmt.Errorf("%w: K %d, want 0 (default) to 15", ErrInvalidConfig, cfg.K)
	}
	l := layout{shards: cfg.Shards, shard: shard.Options{
		AvgPayload: cfg.AvgEntrySize, Policy: evict.Kind(cfg.Policy), K: cfg.K, Hasher: keyhash.New(cfg.Seed),
		CopiesFramed: copiesFramed, FrameHead: frameSize,
	}}
	if l.shard.AvgPayload == 0 {
		l.shard.AvgPayload = DefaultAvgEntrySize
	}
	if l.shard.K == 0 {
		l.shard.K = DefaultK
	}
	switch {
	case l.shards == 0:
		l.shards = DefaultShards
		for l.shards > 1 && cfg.Capacity/int64(l.shards) < minShardBytes {
			l.shards /= 2
		}
		for cfg.Capacity/int64(l.shards) > maxShardBytes {
			l.shards *= 2
		}
	case l.shards < 0 || l.shards > maxShards || bits.OnesCount(uint(l.shards)) != 1:
		return layout{}, fmt.Errorf("%w: Shards %d is not a power of two from 1 to %d", ErrInvalidConfig, cfg.Shards, maxShards)
	}
	per := cfg.Capacity / int64(l.shards) &^ 7 // 8-byte aligned index per shard
	if per < shard.MinSize {
		return layout{}, fmt.Errorf("%w: %d shards leave %d bytes each, want at least %d", ErrInvalidConfig, l.shards, per, shard.MinSize)
	}
	if per > maxShardBytes {
		return layout{}, fmt.Errorf("%w: %d shards leave %d bytes each, more than %d: use more shards", ErrInvalidConfig, l.shards, per, int64(maxShardBytes))
	}
	l.shardBytes = int(per)
	return l, nil
}
