package tier

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
	"github.com/ringcache/ringcache"
)

// Tier is a ringcache in front of Redis in front of a loader. Its methods
// are safe for concurrent use.
type Tier struct {
	cfg     Config
	local   *ringcache.Cache
	redis   rueidis.Client
	breaker *breaker
	waits   waiters
	closed  atomic.Bool
	stats   counters
}

// New connects to Redis and maps the local tier. It returns an error
// wrapping ErrInvalidConfig (or ringcache's configuration errors) for an
// unusable Config, and one wrapping ErrUnavailable when no Redis node
// answers.
func New(cfg Config) (*Tier, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	local, err := ringcache.New(c.Local)
	if err != nil {
		return nil, fmt.Errorf("tier: local cache: %w", err)
	}
	t := &Tier{cfg: c, local: local, breaker: newBreaker(c.Breaker)}
	opt := c.Redis
	opt.DisableCache = false
	// NOLOOP: a connection's own writes do not notify it. The tier drops
	// its own local copy before it writes, and its loads read their key
	// back afterwards to be tracked again.
	opt.ClientTrackingOptions = []string{"OPTIN", "NOLOOP"}
	// One connection per node: rueidis would otherwise send a write on
	// any of several, and a write from a sibling connection notifies the
	// connection that tracks the key, dropping the copy the write's own
	// load is about to keep.
	opt.PipelineMultiplex = -1
	opt.DisableAutoPipelining = false
	opt.NewCacheStoreFn = func(rueidis.CacheStoreOption) rueidis.CacheStore { return &notices{t: t} }
	if t.redis, err = rueidis.NewClient(opt); err != nil {
		_ = local.Close()
		return nil, fmt.Errorf("tier: connecting to Redis: %w", unavailable(err))
	}
	return t, nil
}

// GetOrLoad appends key's value to dst: from the local tier when it holds
// a copy (no round trip, no allocation when dst has room), else from
// Redis, else from load, which then runs once across every instance of
// the service sharing this Redis. The loaded value is stored in Redis,
// with the TTL load returns (0 means Config.TTL), and locally.
//
// Concurrent callers in one instance share one lookup (see
// ringcache.Cache.GetOrLoad). Across instances, the first to miss in
// Redis takes a lock there and loads; the others wait for its result,
// woken by Redis's invalidation notice when it is stored, and load
// themselves if the lock expires (its holder died: see Config.LockTTL).
//
// Writes win: a Set or Invalidate of key, here or in any instance, that
// returns while a load is in flight keeps that load's result out of Redis
// and out of every local tier (its callers, who asked before the write,
// still get it).
//
// Errors:
//   - ErrNotFound when load returned it; with Config.NegativeTTL every
//     instance then answers ErrNotFound without calling load until the
//     placeholder expires or the key is written;
//   - load's error, unless the local tier's StaleGrace still holds an
//     expired copy, which is served instead;
//   - ErrReservedValue when load returned a value beginning with
//     ReservedPrefix (it is not stored);
//   - ErrKeyTooLarge, ErrNilLoader, ErrClosed, ErrInvalidTTL, and ctx's
//     error, as for ringcache.Cache.GetOrLoad.
//
// When Redis is unreachable or the breaker is open, GetOrLoad calls load
// directly and keeps the value locally for Config.UntrackedTTL only.
func (t *Tier) GetOrLoad(ctx context.Context, dst, key []byte, load ringcache.LoadFunc) ([]byte, error) {
	if load == nil {
		return dst, ErrNilLoader
	}
	return ringcache.GetOrLoadWith(t.local, ctx, dst, key, fetch, loadArgs{t, load})
}

// Set stores value under key in Redis with ttl (0 means Config.TTL),
// dropping the local copy: every instance's copy is invalidated, and the
// next read in each fetches the new value. It returns an error wrapping
// ErrUnavailable when Redis could not be written (the local copy is
// dropped all the same), ErrReservedValue, ErrKeyTooLarge, ErrInvalidTTL
// or ErrClosed.
func (t *Tier) Set(ctx context.Context, key, value []byte, ttl time.Duration) error {
	if err := t.writable(key); err != nil {
		return err
	}
	switch {
	case ttl < 0:
		return fmt.Errorf("%w: %v", ErrInvalidTTL, ttl)
	case ttl == 0:
		ttl = t.cfg.TTL
	}
	if isReserved(value) {
		return ErrReservedValue
	}
	k := string(key)
	set := t.redis.B().Set().Key(k).Value(rueidis.BinaryString(value))
	var err error
	if ttl > 0 {
		err = t.do(ctx, set.Px(ttl).Build())
	} else {
		err = t.do(ctx, set.Build())
	}
	// The Delete after the write moves the key's generation, so a load
	// that read the old value is not stored. A load of key by this
	// instance may be waiting for a lock the write replaced; NOLOOP keeps
	// Redis from telling this connection, so it is woken here.
	t.local.Delete(key)
	t.waits.wake(k)
	t.stats.sets.Add(1)
	return err
}

// Invalidate deletes keys from Redis and from the local tier: delete on
// write. Every instance drops its copy when Redis's notice reaches it
// (docs/tier.md measures how soon), and no load in flight stores what it
// read before. Call it after the source of truth changed. It returns an
// error wrapping ErrUnavailable when Redis could not be reached (local
// copies are dropped all the same, but other instances did not hear of
// it), ErrNoKeys, ErrKeyTooLarge or ErrClosed.
func (t *Tier) Invalidate(ctx context.Context, keys ...[]byte) error {
	if len(keys) == 0 {
		return ErrNoKeys
	}
	for _, key := range keys {
		if err := t.writable(key); err != nil {
			return err
		}
	}
	cmds := make(rueidis.Commands, 0, len(keys))
	for _, key := range keys {
		t.local.Delete(key)
		// One DEL per key: in a cluster, keys of different slots live on
		// different nodes.
		cmds = append(cmds, t.redis.B().Del().Key(string(key)).Build())
	}
	err := t.doMulti(ctx, cmds)
	for _, key := range keys {
		t.waits.wake(string(key))
		t.local.Delete(key)
	}
	t.stats.invalidates.Add(uint64(len(keys)))
	return err
}

// Close closes the Redis client and unmaps the local tier. Waiting
// callers get ErrClosed or their ctx's error; a second Close returns
// ErrClosed.
func (t *Tier) Close() error {
	if t.closed.Swap(true) {
		return ErrClosed
	}
	t.redis.Close()
	t.waits.wakeAll()
	return t.local.Close()
}

// writable checks a key for Set and Invalidate.
func (t *Tier) writable(key []byte) error {
	switch {
	case t.closed.Load():
		return ErrClosed
	case len(key) > t.local.MaxKeySize():
		return ErrKeyTooLarge
	}
	return nil
}

// invalidated handles Redis's notice that key changed.
func (t *Tier) invalidated(key string) {
	t.local.Delete(bytesOf(key))
	t.waits.wake(key)
	t.stats.notices.Add(1)
}

// reset drops every local copy: a connection that carried notices broke
// (or Redis flushed everything), so any copy may be out of date.
func (t *Tier) reset() {
	t.local.Clear()
	t.waits.wakeAll()
	t.stats.resets.Add(1) // counted once done: a reader who sees it is safe
}

// do sends one command through the breaker, bounded by RedisTimeout.
func (t *Tier) do(ctx context.Context, cmd rueidis.Completed) error {
	done, err := t.breaker.allow()
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, t.cfg.RedisTimeout)
	err = t.redis.Do(rctx, cmd).Error()
	cancel()
	done(ctx, err)
	if isFailure(err) {
		return unavailable(err)
	}
	return err
}

// doMulti sends commands through the breaker; the first error wins.
func (t *Tier) doMulti(ctx context.Context, cmds rueidis.Commands) error {
	done, err := t.breaker.allow()
	if err != nil {
		return err
	}
	rctx, cancel := context.WithTimeout(ctx, t.cfg.RedisTimeout)
	defer cancel()
	for _, r := range t.redis.DoMulti(rctx, cmds...) {
		if e := r.Error(); e != nil && err == nil {
			err = e
		}
	}
	done(ctx, err)
	if isFailure(err) {
		return unavailable(err)
	}
	return err
}
