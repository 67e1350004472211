package tier

import (
	"sync/atomic"

	"github.com/ringcache/ringcache"
)

// Stats are a Tier's counters. They only grow, but for Pending.
type Stats struct {
	// Local is the local tier's own counters: its Hits are the reads
	// answered without a round trip.
	Local ringcache.Stats

	RedisHits   uint64 // local misses answered by Redis (values and absent placeholders)
	RedisMisses uint64 // local misses that found nothing in Redis
	Loads       uint64 // loader calls under the Redis lock
	Discarded   uint64 // loads whose result a write (or a Redis failure) kept out of both tiers
	LockWaits   uint64 // waits for another load's lock
	DirectLoads uint64 // loader calls without Redis: unreachable, or the breaker open
	Sets        uint64 // Set calls
	Invalidated uint64 // keys passed to Invalidate
	Notices     uint64 // invalidation notices received from Redis, one per key
	Resets      uint64 // times the local tier was cleared: a connection broke or Redis flushed

	Queued     uint64 // writes that could not reach Redis and were queued (a key queued twice counts once)
	Delivered  uint64 // queued writes delivered later
	Pending    int    // writes queued now: a gauge, not a counter
	Heartbeats uint64 // heartbeat rounds every node answered
	Lapses     uint64 // times the lease lapsed: a node went silent
	Recoveries uint64 // times every node answered again after a lapse (or after starting down)

	ConnectErrors     uint64 // failed attempts to make the Redis client: Redis absent at start
	RedisErrors       uint64 // Redis calls that failed: no answer, or an outage error
	BreakerOpens      uint64 // times the circuit breaker opened
	BreakerRejections uint64 // Redis calls the open breaker refused
}

type counters struct {
	redisHits, redisMisses, loads, discarded, lockWaits, directLoads atomic.Uint64
	sets, invalidates, notices, resets                               atomic.Uint64
	queued, delivered, beats, lapses, recoveries, connectErrors      atomic.Uint64
}

// Stats returns the tier's counters.
func (t *Tier) Stats() Stats {
	s := &t.stats
	return Stats{
		Local:     t.local.Stats(),
		RedisHits: s.redisHits.Load(), RedisMisses: s.redisMisses.Load(),
		Loads: s.loads.Load(), Discarded: s.discarded.Load(), LockWaits: s.lockWaits.Load(),
		DirectLoads: s.directLoads.Load(), Sets: s.sets.Load(), Invalidated: s.invalidates.Load(),
		Notices: s.notices.Load(), Resets: s.resets.Load(),
		Queued: s.queued.Load(), Delivered: s.delivered.Load(), Pending: t.pending.len(),
		Heartbeats: s.beats.Load(), Lapses: s.lapses.Load(), Recoveries: s.recoveries.Load(), ConnectErrors: s.connectErrors.Load(),
		RedisErrors:       t.breaker.failures.Load(),
		BreakerOpens:      t.breaker.opens.Load(),
		BreakerRejections: t.breaker.rejections.Load(),
	}
}
