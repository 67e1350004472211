package tier

import (
	"fmt"
	"time"

	"github.com/redis/rueidis"

	"github.com/ringcache/ringcache"
)

// Defaults for the zero fields of Config.
const (
	DefaultLocalTTL        = time.Minute
	DefaultLockTTL         = 5 * time.Second
	DefaultRedisTimeout    = time.Second
	DefaultUntrackedTTL    = time.Second
	DefaultLease           = 500 * time.Millisecond
	DefaultBreakerFailures = 5
	DefaultBreakerBackoff  = time.Second
)

// Config configures a Tier. Redis.InitAddress and Local.Capacity are
// required; every other zero field takes its default.
type Config struct {
	// Redis is the client option for rueidis: addresses (one standalone
	// server, or any nodes of a cluster), credentials, TLS. The tier sets
	// NewCacheStoreFn and ClientTrackingOptions itself (OPTIN NOLOOP
	// tracking, the local copies kept in Local) and turns DisableCache
	// off; Redis 6 or later speaking RESP3 is required.
	Redis rueidis.ClientOption

	// Local configures the in-process cache that holds local copies.
	// Its NegativeTTL must be zero or equal to NegativeTTL below, which
	// applies to both tiers (ErrInvalidConfig otherwise). Its StaleGrace
	// lets GetOrLoad serve an expired copy when both Redis and the loader
	// fail: a copy loaded since the lease last lapsed, since a lapse
	// clears the local tier.
	Local ringcache.Config

	// TTL is the lifetime in Redis of values that Set or a LoadFunc
	// stores without one of their own. Zero means they do not expire.
	TTL time.Duration

	// LocalTTL caps how long a local copy lives (it never outlives the
	// key's TTL in Redis either). Invalidation keeps copies correct; this
	// bounds the damage if a notice is ever lost without the connection
	// breaking. Zero means DefaultLocalTTL.
	LocalTTL time.Duration

	// NegativeTTL is how long a key the loader reported missing
	// (ringcache.ErrNotFound) is remembered, in Redis as a placeholder seen by every
	// instance and in each local tier. Zero turns negative caching off.
	NegativeTTL time.Duration

	// LockTTL is the life of the lock an instance holds in Redis while
	// it loads a key; it is renewed every LockTTL/3 while the load runs,
	// so it bounds how long others wait after the holder dies. Zero means
	// DefaultLockTTL.
	LockTTL time.Duration

	// RedisTimeout bounds each call to Redis. Zero means
	// DefaultRedisTimeout.
	RedisTimeout time.Duration

	// UntrackedTTL is how long a value loaded while Redis is unavailable
	// is kept locally: no invalidation covers it, so this bounds its
	// staleness. Zero means DefaultUntrackedTTL.
	UntrackedTTL time.Duration

	// Lease bounds how long a silent Redis goes unnoticed. A heartbeat
	// pings every node each Lease/4 on the connection that carries its
	// notices, and local copies of tracked reads are served only within
	// Lease of the send of a round every node answered: a paused or
	// partitioned Redis stops them within Lease. The tier is then down
	// (reads call the loader, writes are queued, nothing waits on Redis)
	// until every node answers again. A shorter lease bounds staleness
	// more tightly and costs more pings, and lapses on a Redis (or a
	// process) slower to answer than Lease. Zero means DefaultLease; it
	// must be at least 4ms.
	Lease time.Duration

	// Breaker configures the circuit breaker in front of Redis.
	Breaker Breaker
}

// Breaker configures the circuit breaker: after Failures consecutive
// failed Redis calls it opens, and the tier stops calling Redis (loads go
// to the loader, writes are queued); after Backoff one probe call goes
// through: success closes it, failure opens it for another Backoff. A
// heartbeat round that every node answers after the lease lapsed closes
// it too. It guards against a Redis that answers pings but fails
// commands; a silent one is the lease's. (The breaker is
// github.com/sony/gobreaker.)
type Breaker struct {
	// Failures is the number of consecutive failures that opens the
	// breaker. Zero means DefaultBreakerFailures.
	Failures int
	// Backoff is the first wait before a probe. Zero means
	// DefaultBreakerBackoff.
	Backoff time.Duration
}

func (cfg *Config) withDefaults() (Config, error) {
	c := *cfg
	if len(c.Redis.InitAddress) == 0 {
		return c, fmt.Errorf("%w: Redis.InitAddress is empty", ErrInvalidConfig)
	}
	durations := []struct {
		name string
		d    *time.Duration
		def  time.Duration
	}{
		{"TTL", &c.TTL, 0},
		{"LocalTTL", &c.LocalTTL, DefaultLocalTTL},
		{"NegativeTTL", &c.NegativeTTL, 0},
		{"LockTTL", &c.LockTTL, DefaultLockTTL},
		{"RedisTimeout", &c.RedisTimeout, DefaultRedisTimeout},
		{"UntrackedTTL", &c.UntrackedTTL, DefaultUntrackedTTL},
		{"Breaker.Backoff", &c.Breaker.Backoff, DefaultBreakerBackoff},
		{"Lease", &c.Lease, DefaultLease},
	}
	for _, d := range durations {
		switch {
		case *d.d < 0:
			return c, fmt.Errorf("%w: %s is negative", ringcache.ErrInvalidTTL, d.name)
		case *d.d == 0:
			*d.d = d.def
		}
	}
	if c.Lease < 4*time.Millisecond {
		return c, fmt.Errorf("%w: Lease %v is under 4ms", ErrInvalidConfig, c.Lease)
	}
	if c.LockTTL < 3*time.Millisecond {
		return c, fmt.Errorf("%w: LockTTL %v is under 3ms", ErrInvalidConfig, c.LockTTL)
	}
	switch {
	case c.Breaker.Failures < 0:
		return c, fmt.Errorf("%w: Breaker.Failures is negative", ErrInvalidConfig)
	case c.Breaker.Failures == 0:
		c.Breaker.Failures = DefaultBreakerFailures
	}
	if c.Local.NegativeTTL != 0 && c.Local.NegativeTTL != c.NegativeTTL {
		// One setting for both tiers: a local tombstone outliving the
		// shared one would answer ringcache.ErrNotFound for a key that now exists.
		return c, fmt.Errorf("%w: Local.NegativeTTL %v differs from NegativeTTL %v, which applies to both tiers", ErrInvalidConfig, c.Local.NegativeTTL, c.NegativeTTL)
	}
	c.Local.NegativeTTL = c.NegativeTTL
	return c, nil
}
