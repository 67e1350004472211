package ringcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/ringcache/ringcache/bloom"
	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/singleflight"
	"github.com/ringcache/ringcache/ttl"
)

// LoadFunc loads the value of key from the system of record for
// GetOrLoad. It returns the value and how long to cache it (0 means
// Config.DefaultTTL; negative is an error), ErrNotFound (possibly wrapped)
// when the key does not exist, or any other error when the load failed.
// ctx is cancelled when every caller waiting for this load has given up,
// or, for a background refresh, after Config.RefreshTimeout or at Close.
// The key slice is the loader's to keep.
type LoadFunc func(ctx context.Context, key []byte) (value []byte, ttl time.Duration, err error)

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

// maxCachedErrors bounds the errors ErrorTTL keeps; past it, the oldest
// go first.
const maxCachedErrors = 4096

// loading is the state of GetOrLoad: the single-flight group, negative,
// error and stale settings, the guard and the background refreshers.
type loading struct {
	flight         singleflight.Group[flightKey, []byte]
	guard          atomic.Pointer[bloom.Filter]
	negativeTTL    time.Duration
	errorTTL       time.Duration
	staleGrace     time.Duration
	refreshAhead   float64
	refreshTimeout time.Duration
	adaptive       ttl.Adaptive
	refreshSlots   chan struct{}
	background     context.Context
	stop           context.CancelFunc
	errs           errorCache
	stats          loadStats
}

type loadStats struct {
	loads, discarded, loadErrors, shared, negativeHits, guardRejections atomic.Uint64
	staleServed, refreshes, refreshErrors, compressedSaved              atomic.Uint64
	times                                                               loadClock
}

// flightKey names a load: the key, and its write generation when the load
// began. A write moves the generation, so callers that come after it start
// a load of their own instead of joining one that may have read the
// source before the write.
type flightKey struct {
	key string
	gen uint32
}

func (l *loading) init(cfg *Config) {
	l.negativeTTL, l.errorTTL, l.staleGrace = cfg.NegativeTTL, cfg.ErrorTTL, cfg.StaleGrace
	l.refreshAhead, l.adaptive = cfg.RefreshAhead, ttl.Adaptive(cfg.AdaptiveTTL)
	l.refreshTimeout = cfg.RefreshTimeout
	if l.refreshTimeout == 0 {
		l.refreshTimeout = DefaultRefreshTimeout
	}
	workers := cfg.RefreshWorkers
	if workers == 0 {
		workers = DefaultRefreshWorkers
	}
	l.refreshSlots = make(chan struct{}, workers)
	l.background, l.stop = context.WithCancel(context.Background())
	l.guard.Store(cfg.Guard)
}

func (l *loading) close() { l.stop() }

// engineExpiry is how long the engine keeps a value fresh until fresh:
// StaleGrace longer, so that stale-if-error has something to serve.
func (l *loading) engineExpiry(fresh int64) int64 { return ttl.Add(fresh, l.staleGrace) }

// SetGuard replaces the Bloom guard of GetOrLoad (nil removes it); safe to
// call while the cache is in use. See Config.Guard.
func (c *Cache) SetGuard(f *bloom.Filter) { c.loading.guard.Store(f) }

// lookup states of GetOrLoad.
type lookupState uint8

const (
	stateMissing  lookupState = iota
	stateFresh                // serve it
	stateRefresh              // serve it, and refresh it in the background
	stateStale                // past its freshness, within StaleGrace
	stateNegative             // a live tombstone: ErrNotFound
)

// GetOrLoad appends key's value to dst, loading it with load on a miss.
//
// A hit returns at once, and never allocates when dst has room (key may
// lie in dst's spare capacity: the value then goes to a new array). On a
// miss, concurrent callers for the same key share one call of load (see
// package singleflight): each waits for it or for its own ctx, and load
// runs with a context that is cancelled only when all of them have given
// up. The loaded value is stored with the TTL load returned (0 means
// Config.DefaultTTL; Config.AdaptiveTTL and Config.TTLJitter apply).
//
// Writes win: a Set, SetWithTTL, Delete, Touch or Clear that returns while
// a load of key is in flight means that load's result is not stored (the
// callers already waiting for it still get it: they asked before the
// write), and a GetOrLoad that begins after the write starts a load of its
// own. This holds for background refreshes and for ErrNotFound and error
// results too. Update the source, then Delete the key, and no later
// GetOrLoad returns what the source held before.
//
// Errors:
//   - ErrNotFound when load returned it: with Config.NegativeTTL, a
//     tombstone then answers later calls with ErrNotFound without calling
//     load, until it expires or a Set or Delete of the key removes it;
//   - ErrNotFound when Config.Guard rules out a key the cache does not
//     hold (load is not called);
//   - load's own error, unless Config.StaleGrace still holds the previous
//     value, which is then returned with a nil error (Stats.StaleServed);
//     with Config.ErrorTTL the error is remembered and returned to later
//     callers for that long without calling load (a stale value within
//     its grace is served instead);
//   - ErrInvalidTTL when load returned a negative TTL;
//   - ErrEntryTooLarge when the loaded value cannot be stored: the value
//     is still appended to dst;
//   - ErrKeyTooLarge for a key longer than MaxKeySize, ErrNilLoader for a
//     nil load (neither calls load), ErrClosed after Close, and the
//     caller's ctx.Err() when it gave up waiting.
//
// With Config.RefreshAhead, a hit in the last part of an entry's life
// returns the value and reloads it in the background (one refresh per key,
// at most Config.RefreshWorkers at once, never blocking the caller).
func (c *Cache) GetOrLoad(ctx context.Context, dst, key []byte, load LoadFunc) ([]byte, error) {
	if load == nil {
		return dst, ErrNilLoader
	}
	return getOrLoad(c, ctx, dst, key, callLoadFunc, load)
}

// GetOrLoadWith is c.GetOrLoad for a loader that takes an argument: load
// is called as load(ctx, key, arg). It is for wrappers that would
// otherwise make a closure on every call (one allocation even on a hit):
// GetOrLoadWith binds arg to load only when it has to load. Everything
// GetOrLoad says holds; a nil load is ErrNilLoader.
func GetOrLoadWith[A any](c *Cache, ctx context.Context, dst, key []byte, load func(context.Context, []byte, A) ([]byte, time.Duration, error), arg A) ([]byte, error) {
	if load == nil {
		return dst, ErrNilLoader
	}
	return getOrLoad(c, ctx, dst, key, load, arg)
}

func callLoadFunc(ctx context.Context, key []byte, load LoadFunc) ([]byte, time.Duration, error) {
	return load(ctx, key)
}

// bind makes the LoadFunc of a miss or a refresh.
func bind[A any](load func(context.Context, []byte, A) ([]byte, time.Duration, error), arg A) LoadFunc {
	return func(ctx context.Context, key []byte) ([]byte, time.Duration, error) { return load(ctx, key, arg) }
}

func getOrLoad[A any](c *Cache, ctx context.Context, dst, key []byte, load func(context.Context, []byte, A) ([]byte, time.Duration, error), arg A) ([]byte, error) {
	switch {
	case len(key) > c.maxKey:
		return dst, ErrKeyTooLarge
	case c.closed.Load():
		return dst, ErrClosed
	}
	l := &c.loading
	dst = apart(dst, key)
	h := c.hasher.Sum(key)
	now := c.clock.Now()
	if c.optimistic {
		// A fresh hit needs neither the lock nor the generation.
		if out, o := c.getUnlocked(c.shardFor(h), dst, h, key, now, true); o == shard.Hit {
			return out, nil
		}
	}
	state, out := stateMissing, dst
	// gen is the key's write generation at the lookup: a write after it
	// discards whatever load this call starts or joins.
	var big chunked
	_, gen := c.shardFor(h).Read(h, key, now, func(v []byte, framed bool) bool {
		state, out = c.inspect(dst, v, framed, now, &big)
		return state == stateFresh || state == stateRefresh
	})
	if big.m.chunks > 0 {
		var ok bool
		if out, ok = c.gather(dst, h, big, now); !ok {
			state = stateMissing
		}
	}
	switch state {
	case stateFresh:
		return out, nil
	case stateRefresh:
		c.refresh(h, gen, key, bind(load, arg))
		return out, nil
	case stateNegative:
		l.stats.negativeHits.Add(1)
		return dst, ErrNotFound
	}
	if g := l.guard.Load(); g != nil && !g.Has(key) {
		l.stats.guardRejections.Add(1)
		return dst, ErrNotFound
	}
	if err := l.errs.get(key, now, gen); err != nil {
		if state == stateStale {
			l.stats.staleServed.Add(1)
			return out, nil
		}
		return dst, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	owned := bytes.Clone(key) // the load may outlive this call
	bound := bind(load, arg)
	v, shared, err := l.flight.Do(ctx, flightKey{string(owned), gen}, func(lctx context.Context) ([]byte, error) {
		// A load that finished between this caller's miss and its flight
		// has stored what this one would load: use it.
		switch v, state := c.stored(h, owned); state {
		case stateFresh, stateRefresh:
			return v, nil
		case stateNegative:
			return nil, ErrNotFound
		}
		return c.load(lctx, h, gen, owned, bound)
	})
	if shared {
		l.stats.shared.Add(1)
	}
	switch {
	case err == nil, errors.Is(err, ErrEntryTooLarge) && v != nil:
		return append(dst, v...), err
	case errors.Is(err, ErrNotFound):
		return dst, ErrNotFound
	case state == stateStale && ctx.Err() == nil:
		l.stats.staleServed.Add(1)
		return out, nil
	}
	return dst, err
}

// stored is what GetOrLoad's lookup would find for key now, without
// counting a read: the state, and a copy of the value if there is one.
func (c *Cache) stored(h uint64, key []byte) ([]byte, lookupState) {
	now := c.clock.Now()
	var v []byte
	state := stateMissing
	var big chunked
	c.shardFor(h).Peek(h, key, now, func(b []byte, framed bool, _ int64) bool {
		state, v = c.inspect(nil, b, framed, now, &big)
		return true
	})
	if big.m.chunks > 0 {
		var ok bool
		if v, ok = c.gather(nil, h, big, now); !ok {
			state = stateMissing
		}
	}
	return v, state
}

// inspect classifies a stored value for GetOrLoad and appends it to dst
// when there is one to serve (stale ones included); a chunked value's
// manifest goes to big instead, for the caller to gather.
func (c *Cache) inspect(dst, v []byte, framed bool, now int64, big *chunked) (lookupState, []byte) {
	if !framed {
		return stateFresh, append(dst, v...)
	}
	f, payload := readFrame(v)
	out, err := dst, error(nil)
	switch f.kind {
	case kindNegative:
		if c.clock.Expired(f.fresh, now) {
			return stateMissing, dst
		}
		return stateNegative, dst
	case kindManifest:
		m, ok := readManifest(payload)
		if !ok {
			return stateMissing, dst
		}
		big.f, big.m = f, m
	case kindValue:
		out, err = c.codecs.appendPayload(dst, f, payload)
	default:
		return stateMissing, dst
	}
	switch {
	case err != nil:
		return stateMissing, dst
	case c.clock.Expired(f.fresh, now):
		return stateStale, out
	case c.loading.refreshDue(f, now):
		return stateRefresh, out
	}
	return stateFresh, out
}

// refreshDue reports whether a fresh value is in the last RefreshAhead
// part of its life.
func (l *loading) refreshDue(f frame, now int64) bool {
	if l.refreshAhead == 0 || f.fresh == ttl.Never {
		return false
	}
	life := f.fresh - f.born
	return float64(f.fresh-now) <= l.refreshAhead*float64(life)
}

// load calls the loader and stores what it says, the value or a
// tombstone, unless a write of the key came since gen; it remembers an
// error (with ErrorTTL) for callers at the same generation only.
func (c *Cache) load(ctx context.Context, h uint64, gen uint32, key []byte, load LoadFunc) ([]byte, error) {
	l := &c.loading
	l.stats.loads.Add(1)
	began := time.Now()
	value, d, err := load(ctx, key)
	l.stats.times.observe(time.Since(began))
	now := c.clock.Now()
	switch {
	case errors.Is(err, ErrNotFound):
		if l.negativeTTL > 0 {
			fresh := ttl.Stamp(now, c.jittered(l.negativeTTL))
			// A tombstone is a few bytes; failing to store it only means
			// the next call loads again.
			_ = c.fill(h, key, nil, now, frame{kind: kindNegative, fresh: fresh, born: now}, fresh, gen)
		}
		return nil, ErrNotFound
	case err != nil:
		l.stats.loadErrors.Add(1)
		if l.errorTTL > 0 {
			l.errs.put(key, err, ttl.Stamp(now, l.errorTTL), gen)
		}
		return nil, err
	case d < 0:
		l.stats.loadErrors.Add(1)
		return nil, fmt.Errorf("%w: loader returned TTL %v for %q", ErrInvalidTTL, d, key)
	}
	if d == 0 {
		d = c.defaultTTL
	}
	if l.adaptive.Enabled() {
		d = l.adaptive.For(c.shardFor(h).Reads(h))
	}
	fresh := ttl.Stamp(now, c.jittered(d))
	if err := c.fill(h, key, value, now, frame{kind: kindValue, fresh: fresh, born: now}, l.engineExpiry(fresh), gen); err != nil {
		return value, err
	}
	l.errs.forget(key)
	return value, nil
}

// refresh reloads key in the background unless a load of it at gen is in
// flight or every refresh worker is busy.
func (c *Cache) refresh(h uint64, gen uint32, key []byte, load LoadFunc) {
	l := &c.loading
	fk := flightKey{string(key), gen}
	if l.flight.InFlight(fk) {
		return
	}
	select {
	case l.refreshSlots <- struct{}{}:
	default:
		return
	}
	owned := []byte(fk.key)
	go func() {
		defer func() { <-l.refreshSlots }()
		ctx, cancel := context.WithTimeout(l.background, l.refreshTimeout)
		defer cancel()
		_, _, err := l.flight.Do(ctx, fk, func(lctx context.Context) ([]byte, error) {
			return c.load(lctx, h, gen, owned, load)
		})
		l.stats.refreshes.Add(1)
		if err != nil && !errors.Is(err, ErrNotFound) {
			l.stats.refreshErrors.Add(1)
		}
	}()
}
