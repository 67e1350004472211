// Package figures is the one list of what the exporters publish: each of
// a cache's and a tier's Stats fields with its name, help, kind and unit,
// from which ringprom and ringotel build their instruments.
package figures

import (
	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/tier"
)

// Kind says how a figure moves.
type Kind uint8

const (
	// Counter only grows.
	Counter Kind = iota
	// Gauge describes the present.
	Gauge
)

// Figure is one figure of Stats.
type Figure[S any] struct {
	// Name is the figure's name without prefix, unit or _total, in
	// snake case: "hits", "used".
	Name string
	Help string
	Kind Kind
	// Bytes marks a figure counted in bytes; others are plain counts.
	Bytes bool
	Value func(*S) float64
}

func counter[S any](name, help string, v func(*S) uint64) Figure[S] {
	return Figure[S]{Name: name, Help: help, Kind: Counter, Value: func(s *S) float64 { return float64(v(s)) }}
}

// Cache are a ringcache.Cache's figures.
var Cache = []Figure[ringcache.Stats]{
	counter("hits", "Reads that returned a value.", func(s *ringcache.Stats) uint64 { return s.Hits }),
	counter("misses", "Reads that did not return a value.", func(s *ringcache.Stats) uint64 { return s.Misses }),
	counter("sets", "Successful writes.", func(s *ringcache.Stats) uint64 { return s.Sets }),
	counter("deletes", "Deletes that removed a live entry.", func(s *ringcache.Stats) uint64 { return s.Deletes }),
	counter("overwrites", "Writes that replaced a live entry.", func(s *ringcache.Stats) uint64 { return s.Overwrites }),
	counter("evictions", "Live entries dropped to make room, rejections included.", func(s *ringcache.Stats) uint64 { return s.Evictions }),
	counter("expirations", "Entries dropped because their TTL had passed.", func(s *ringcache.Stats) uint64 { return s.Expirations }),
	counter("admissions", "New keys stored.", func(s *ringcache.Stats) uint64 { return s.Admissions }),
	counter("promotions", "Entries moved from probation to main.", func(s *ringcache.Stats) uint64 { return s.Promotions }),
	counter("rejections", "Probation entries dropped for main's victim or short of K reads.", func(s *ringcache.Stats) uint64 { return s.Rejections }),
	counter("replans", "Times a shard moved the boundary between its index and its rings.", func(s *ringcache.Stats) uint64 { return s.Replans }),
	counter("dropped_reads", "Hits the eviction policy never heard of.", func(s *ringcache.Stats) uint64 { return s.DroppedReads }),
	counter("read_retries", "Lock-free reads started over because a write overlapped them.", func(s *ringcache.Stats) uint64 { return s.ReadRetries }),
	counter("loads", "Loader calls, background refreshes included.", func(s *ringcache.Stats) uint64 { return s.Loads }),
	counter("loads_discarded", "Loads not stored because the key was written during them.", func(s *ringcache.Stats) uint64 { return s.LoadsDiscarded }),
	counter("load_errors", "Loader calls that failed (not found is not a failure).", func(s *ringcache.Stats) uint64 { return s.LoadErrors }),
	counter("shared_loads", "GetOrLoad calls answered by another caller's load.", func(s *ringcache.Stats) uint64 { return s.SharedLoads }),
	counter("negative_hits", "GetOrLoad calls answered by a tombstone.", func(s *ringcache.Stats) uint64 { return s.NegativeHits }),
	counter("guard_rejections", "GetOrLoad calls the Bloom guard answered.", func(s *ringcache.Stats) uint64 { return s.GuardRejections }),
	counter("stale_served", "Stale values served because a reload failed.", func(s *ringcache.Stats) uint64 { return s.StaleServed }),
	counter("refreshes", "Background refreshes run.", func(s *ringcache.Stats) uint64 { return s.Refreshes }),
	counter("refresh_errors", "Background refreshes whose load failed.", func(s *ringcache.Stats) uint64 { return s.RefreshErrors }),
	{Name: "compression_saved", Help: "Bytes compression saved, summed over writes.", Kind: Counter, Bytes: true,
		Value: func(s *ringcache.Stats) float64 { return float64(s.BytesSaved) }},
	{Name: "entries", Help: "Entries held (tombstones and stale values included).", Kind: Gauge,
		Value: func(s *ringcache.Stats) float64 { return float64(s.Entries) }},
	{Name: "used", Help: "Bytes the entries take: header, key, value, index slot.", Kind: Gauge, Bytes: true,
		Value: func(s *ringcache.Stats) float64 { return float64(s.BytesUsed) }},
	{Name: "capacity", Help: "The cache's Capacity.", Kind: Gauge, Bytes: true,
		Value: func(s *ringcache.Stats) float64 { return float64(s.Capacity) }},
}

// Tier are a tier.Tier's own figures; its local cache's are Cache's.
var Tier = []Figure[tier.Stats]{
	counter("redis_hits", "Local misses answered by Redis.", func(s *tier.Stats) uint64 { return s.RedisHits }),
	counter("redis_misses", "Local misses that found nothing in Redis.", func(s *tier.Stats) uint64 { return s.RedisMisses }),
	counter("loads", "Loader calls under the Redis lock.", func(s *tier.Stats) uint64 { return s.Loads }),
	counter("discarded", "Loads whose result a write kept out of both tiers.", func(s *tier.Stats) uint64 { return s.Discarded }),
	counter("lock_waits", "Waits for another instance's load.", func(s *tier.Stats) uint64 { return s.LockWaits }),
	counter("direct_loads", "Loader calls without Redis.", func(s *tier.Stats) uint64 { return s.DirectLoads }),
	counter("sets", "Set calls.", func(s *tier.Stats) uint64 { return s.Sets }),
	counter("invalidated", "Keys passed to Invalidate.", func(s *tier.Stats) uint64 { return s.Invalidated }),
	counter("notices", "Invalidation notices received from Redis.", func(s *tier.Stats) uint64 { return s.Notices }),
	counter("resets", "Times the local tier was cleared.", func(s *tier.Stats) uint64 { return s.Resets }),
	counter("queued", "Writes queued because Redis could not take them.", func(s *tier.Stats) uint64 { return s.Queued }),
	counter("delivered", "Queued writes delivered later.", func(s *tier.Stats) uint64 { return s.Delivered }),
	counter("heartbeats", "Heartbeat rounds every node answered.", func(s *tier.Stats) uint64 { return s.Heartbeats }),
	counter("lapses", "Times the lease lapsed.", func(s *tier.Stats) uint64 { return s.Lapses }),
	counter("recoveries", "Times every node answered again after a lapse.", func(s *tier.Stats) uint64 { return s.Recoveries }),
	counter("connect_errors", "Failed attempts to connect to Redis.", func(s *tier.Stats) uint64 { return s.ConnectErrors }),
	counter("redis_errors", "Redis calls that failed.", func(s *tier.Stats) uint64 { return s.RedisErrors }),
	counter("breaker_opens", "Times the circuit breaker opened.", func(s *tier.Stats) uint64 { return s.BreakerOpens }),
	counter("breaker_rejections", "Redis calls the open breaker refused.", func(s *tier.Stats) uint64 { return s.BreakerRejections }),
	{Name: "pending", Help: "Writes queued now, waiting for Redis.", Kind: Gauge,
		Value: func(s *tier.Stats) float64 { return float64(s.Pending) }},
}
