package ringcache

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ringcache/ringcache/bloom"
	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// GetOrLoad, top to bottom: a lookup, then a load shared by the callers
// of a key, stored unless a write came since the lookup.

// SetGuard replaces the Bloom guard of GetOrLoad (nil removes it); safe to
// call while the cache is in use. See Config.Guard.
func (c *Cache) SetGuard(f *bloom.Filter) { c.loading.guard.Store(f) }

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
		if out, o := c.getUnlocked(c.shardFor(h), dst, h, key, now, l.refreshAhead); o == shard.Hit {
			return out, nil
		}
	}
	// gen is the key's write generation at the lookup: a write after it
	// discards whatever load this call starts or joins.
	state, due, out, gen := c.lookup(dst, h, key, now, true)
	switch {
	case state == stateLive && due:
		c.refresh(h, gen, key, bind(load, arg))
		return out, nil
	case state == stateLive:
		return out, nil
	case state == stateNegative:
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
		switch state, _, v, _ := c.lookup(nil, h, owned, c.clock.Now(), false); state {
		case stateLive:
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

// lookup is what GetOrLoad finds of key under its shard's lock: the
// entry's state, whether a live value is due for a refresh, the value
// appended to dst when there is one to serve (stale ones included), and
// the key's write generation. A counted lookup is a read the eviction
// policy and Stats see; the check inside a flight is not.
func (c *Cache) lookup(dst []byte, h uint64, key []byte, now int64, counted bool) (state, bool, []byte, uint32) {
	st, due, out := stateAbsent, false, dst
	var big manifest
	see := func(v []byte, framed bool) bool {
		e := c.found(v, framed, now)
		switch e.state {
		case stateLive, stateStale:
			if e.chunked() {
				big = e.m
			} else if !c.withValue(e.f, e.payload, func(b []byte) { out = append(dst, b...) }) {
				return false
			}
			due = e.state == stateLive && e.f.due(c.loading.refreshAhead, now)
		}
		st = e.state
		return st == stateLive
	}
	var gen uint32
	if counted {
		_, gen = c.shardFor(h).Read(h, key, now, see)
	} else {
		c.shardFor(h).Peek(h, key, now, func(v []byte, framed bool, _ int64) bool { see(v, framed); return true })
	}
	if out, ok := c.gathered(dst, out, true, h, &big, now); ok {
		return st, due, out, gen
	}
	return stateAbsent, false, dst, gen
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
	if err := c.fill(h, key, value, now, frame{kind: kindValue, fresh: fresh, born: now}, c.engineExpiry(fresh), gen); err != nil {
		return value, err
	}
	l.errs.forget(key)
	return value, nil
}

// fill stores a loaded value (or tombstone) behind its frame, compressed
// when that saves space, unless a write of the key came since gen was
// read: see Shard.Fill. A load whose result is not stored is counted.
func (c *Cache) fill(h uint64, key, value []byte, now int64, f frame, expiry int64, gen uint32) error {
	var stored bool
	var err error
	if len(key)+frameSize+len(value) > c.maxEntry {
		stored, err = c.setChunked(h, key, value, f, expiry, true, gen)
	} else {
		bp := c.borrow()
		defer c.giveBack(bp)
		b, saved := c.codecs.frame((*bp)[:0], value, f)
		*bp = b
		if stored, err = c.shardFor(h).Fill(h, key, b, now, expiry, true, gen); stored {
			c.saved.Add(uint64(saved))
		}
	}
	if !stored && err == nil {
		c.loading.stats.discarded.Add(1)
	}
	return err
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
