package tier

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/ttl"
)

// Tier is a ringcache in front of Redis in front of a loader. Its methods
// are safe for concurrent use.
type Tier struct {
	cfg     Config
	opt     rueidis.ClientOption
	local   *ringcache.Cache
	redis   atomic.Pointer[rueidis.Client] // nil until connected
	clock   *ttl.Clock
	breaker *breaker
	waits   waiters
	pending pending
	closed  atomic.Bool
	stats   counters

	// The lease (lease.go): tracked local copies are served while
	// clock.Now() < leaseEnd; up is false from the lease's lapse until
	// the heartbeat hears every node again.
	leaseEnd atomic.Int64
	up       atomic.Bool
	partial  atomic.Bool // down, but some nodes answer
	epoch    atomic.Pointer[epoch]
	quit     chan struct{}
	stopped  chan struct{}
}

// New maps the local tier and connects to Redis. When no Redis node
// answers it still returns a working Tier, down until Redis answers (see
// Config.Lease): reads call the loader and writes are queued, and a
// background heartbeat connects as soon as it can. New waits for the
// first attempt, which with a silent (paused) Redis lasts until the
// Redis option's dial timeout.
//
// It returns an error wrapping ErrInvalidConfig (or ringcache's
// configuration errors) for an unusable Config, and ErrAuth when Redis
// refuses the credentials.
func New(cfg Config) (*Tier, error) {
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	local, err := ringcache.New(c.Local)
	if err != nil {
		return nil, fmt.Errorf("tier: local cache: %w", err)
	}
	t := &Tier{cfg: c, local: local, clock: ttl.System(), breaker: newBreaker(c.Breaker),
		quit: make(chan struct{}), stopped: make(chan struct{})}
	opt := c.Redis
	opt.DisableCache = false
	// NOLOOP: a connection's own writes do not notify it. The tier drops
	// its own local copy before it writes, and its loads read their key
	// back afterwards to be tracked again.
	opt.ClientTrackingOptions = []string{"OPTIN", "NOLOOP"}
	// One connection per node: rueidis would otherwise send a write on
	// any of several, and a write from a sibling connection notifies the
	// connection that tracks the key, dropping the copy the write's own
	// load is about to keep. It also carries the heartbeat, whose reply
	// then vouches for the notices before it.
	opt.PipelineMultiplex = -1
	opt.DisableAutoPipelining = false
	opt.NewCacheStoreFn = func(rueidis.CacheStoreOption) rueidis.CacheStore { return &notices{t: t} }
	t.opt = opt
	t.newEpoch()
	switch err := t.connect(); {
	case err == nil:
		t.leaseEnd.Store(t.clock.Now() + c.Lease.Milliseconds())
		t.up.Store(true)
	case errors.Is(err, ErrAuth), errors.Is(err, ErrInvalidConfig):
		_ = local.Close()
		return nil, err
	}
	go t.heartbeat()
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
//   - ringcache.ErrNotFound when load returned it; with Config.NegativeTTL every
//     instance then answers ringcache.ErrNotFound without calling load until the
//     placeholder expires or the key is written;
//   - load's error, unless the local tier's StaleGrace still holds an
//     expired copy, which is served instead;
//   - ErrReservedValue when load returned a value beginning with
//     ReservedPrefix (it is not stored);
//   - ringcache.ErrKeyTooLarge, ringcache.ErrNilLoader, ringcache.ErrClosed, ringcache.ErrInvalidTTL, and ctx's
//     error, as for ringcache.Cache.GetOrLoad.
//
// When Redis is unreachable or the breaker is open, GetOrLoad calls load
// directly and keeps the value locally for Config.UntrackedTTL only.
func (t *Tier) GetOrLoad(ctx context.Context, dst, key []byte, load ringcache.LoadFunc) ([]byte, error) {
	if load == nil {
		return dst, ringcache.ErrNilLoader
	}
	t.leased()
	for {
		out, err := ringcache.GetOrLoadWith(t.local, ctx, dst, key, fetch, loadArgs{t, load})
		if !errors.Is(err, errPeekMissed) {
			return out, err
		}
		// This call joined a Get's lookup, which does not load: move the
		// key's generation (past an ErrorTTL memory of that answer) and
		// look again.
		t.local.Delete(key)
	}
}

// Get appends key's value to dst from the local tier or, on a local miss,
// from Redis (tracked, and kept locally as GetOrLoad keeps it); it never
// calls a loader. It returns ErrNotCached when neither tier holds a value
// (or an instance is loading it), ringcache.ErrNotFound for a key a loader reported
// missing while that is remembered, an error wrapping ErrUnavailable when
// Redis could not be read, and ringcache.ErrKeyTooLarge, ringcache.ErrClosed or ctx's error.
func (t *Tier) Get(ctx context.Context, dst, key []byte) ([]byte, error) {
	t.leased()
	out, err := ringcache.GetOrLoadWith(t.local, ctx, dst, key, peek, t)
	if errors.Is(err, errPeekMissed) {
		return out, ErrNotCached
	}
	return out, err
}

// Set stores value under key in Redis with ttl (0 means Config.TTL),
// dropping the local copy: every instance's copy is invalidated, and the
// next read in each fetches the new value.
//
// When Redis cannot be written (it is down, silent, or the breaker is
// open), Set returns an error wrapping ErrUnavailable: the value may not
// be in Redis. The key is then queued, and deleted in Redis as soon as
// it answers (before this instance reads it there), so that no instance
// keeps serving the old value; meanwhile this instance serves value
// itself for UntrackedTTL, so a retry costs no load. Set also returns
// ErrReservedValue, ringcache.ErrKeyTooLarge, ringcache.ErrInvalidTTL or ringcache.ErrClosed.
func (t *Tier) Set(ctx context.Context, key, value []byte, ttl time.Duration) error {
	if err := t.writable(key); err != nil {
		return err
	}
	switch {
	case ttl < 0:
		return fmt.Errorf("%w: %v", ringcache.ErrInvalidTTL, ttl)
	case ttl == 0:
		ttl = t.cfg.TTL
	}
	if isReserved(value) {
		return ErrReservedValue
	}
	k := string(key)
	// A caller who gives up does not take the write back: it is sent, or
	// its key queued, all the same.
	err := t.do(context.WithoutCancel(ctx), func(b rueidis.Builder) rueidis.Completed {
		set := b.Set().Key(k).Value(rueidis.BinaryString(value))
		if ttl > 0 {
			return set.Px(ttl).Build()
		}
		return set.Build()
	})
	// The Delete after the write moves the key's generation, so a load
	// that read the old value is not stored. A load of key by this
	// instance may be waiting for a lock the write replaced; NOLOOP keeps
	// Redis from telling this connection, so it is woken here.
	t.local.Delete(key)
	t.waits.wake(k)
	t.stats.sets.Add(1)
	if lost(err) {
		t.queue(k)
		local := t.cfg.UntrackedTTL
		if ttl > 0 {
			local = min(local, ttl)
		}
		_ = t.local.SetWithTTL(key, value, local)
		return unavailable(err)
	}
	return err
}

// Invalidate deletes keys from Redis and from the local tier: delete on
// write. Call it after the source of truth changed. Every instance drops
// its copy when Redis's notice reaches it (docs/tier.md measures how
// soon), and no load in flight stores what it read before.
//
// A key that cannot be deleted in Redis now (it is down, silent, or the
// breaker is open) is queued and deleted as soon as Redis answers, before
// this instance reads it there; Invalidate returns nil for it all the
// same, and a retry is not needed. The queue lives in this process: if it
// exits first, other instances may serve the old value for up to
// LocalTTL, and Redis may hold it for up to its TTL (docs/tier.md);
// Close reports keys it could not deliver. Invalidate returns the error
// Redis answered for a key (the key is not queued), ErrNoKeys,
// ringcache.ErrKeyTooLarge or ringcache.ErrClosed.
func (t *Tier) Invalidate(ctx context.Context, keys ...[]byte) error {
	if len(keys) == 0 {
		return ErrNoKeys
	}
	for _, key := range keys {
		if err := t.writable(key); err != nil {
			return err
		}
	}
	for _, key := range keys {
		t.local.Delete(key)
	}
	// A caller who gives up does not take the write back: it is sent,
	// or queued, all the same.
	rctx, cancel := t.bounded(context.WithoutCancel(ctx))
	defer cancel()
	var answered error
	c, done, err := t.call()
	if err == nil {
		cmds := make(rueidis.Commands, len(keys))
		for i, key := range keys {
			// One DEL per key: in a cluster, keys of different slots
			// live on different nodes.
			cmds[i] = c.B().Del().Key(string(key)).Build()
		}
		var failure error
		for i, r := range c.DoMulti(rctx, cmds...) {
			switch e := r.Error(); {
			case lost(e):
				t.queue(string(keys[i]))
				failure = e
			case e != nil && answered == nil:
				answered = e
			}
		}
		done(rctx, failure)
	} else {
		for _, key := range keys {
			t.queue(string(key))
		}
	}
	for _, key := range keys {
		t.waits.wake(string(key))
		t.local.Delete(key)
	}
	t.stats.invalidates.Add(uint64(len(keys)))
	return answered
}

// Close stops the heartbeat, delivers the queued writes if Redis answers
// within RedisTimeout, closes the Redis client and unmaps the local tier.
// Waiting callers get ringcache.ErrClosed or their ctx's error. It returns an error
// wrapping ErrUnavailable, saying how many, when queued writes could not
// be delivered (see Invalidate), and ringcache.ErrClosed when called again.
func (t *Tier) Close() error {
	if t.closed.Swap(true) {
		return ringcache.ErrClosed
	}
	close(t.quit)
	<-t.stopped
	defer t.epoch.Load().cancel()
	if c, err := t.client(); err == nil {
		if t.pending.len() > 0 {
			t.deliver(c, t.pending.keys())
		}
		c.Close()
	}
	var err error
	if n := t.pending.len(); n > 0 {
		err = fmt.Errorf("%w: %d queued invalidations were not delivered", ErrUnavailable, n)
	}
	t.waits.wakeAll()
	return errors.Join(err, t.local.Close())
}

// writable checks a key for Set and Invalidate.
func (t *Tier) writable(key []byte) error {
	switch {
	case t.closed.Load():
		return ringcache.ErrClosed
	case len(key) > t.local.MaxKeySize():
		return ringcache.ErrKeyTooLarge
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

// errDown is the refusal of a call while the lease is lapsed.
var errDown = fmt.Errorf("%w: no answer from Redis within the lease", ErrUnavailable)

// call asks to send commands to Redis: the lease must hold and the
// breaker let it through. done reports the outcome to the breaker.
func (t *Tier) call() (rueidis.Client, func(context.Context, error), error) {
	if !t.leased() && !t.partial.Load() {
		return nil, nil, errDown
	}
	c, err := t.client()
	if err != nil {
		return nil, nil, err
	}
	done, err := t.breaker.allow()
	if err != nil {
		return nil, nil, err
	}
	return c, done, nil
}

// do sends one command through the breaker, bounded by RedisTimeout.
func (t *Tier) do(ctx context.Context, build func(rueidis.Builder) rueidis.Completed) error {
	c, done, err := t.call()
	if err != nil {
		return err
	}
	rctx, cancel := t.bounded(ctx)
	err = c.Do(rctx, build(c.B())).Error()
	cancel()
	done(ctx, err)
	if isFailure(err) {
		return unavailable(err)
	}
	return err
}

// queue puts a write that did not reach Redis on the queue.
func (t *Tier) queue(key string) {
	if t.pending.add(key) {
		t.stats.queued.Add(1)
	}
}

// deliverOne deletes a queued key in Redis before a read of it there.
func (t *Tier) deliverOne(ctx context.Context, q queued) bool {
	c, done, err := t.call()
	if err != nil {
		return false
	}
	rctx, cancel := t.bounded(ctx)
	err = c.Do(rctx, c.B().Del().Key(q.key).Build()).Error()
	cancel()
	done(ctx, err)
	if err != nil {
		return false
	}
	if t.pending.done(q) {
		t.stats.delivered.Add(1)
	}
	return true
}

// lost reports whether a write's error leaves it undelivered: Redis did
// not answer (or the call was not made), as opposed to answering with an
// error.
func lost(err error) bool {
	var re *rueidis.RedisError
	return err != nil && (!errors.As(err, &re) || isFailure(err))
}
