package tier

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/rueidis"

	"github.com/ringcache/ringcache"
)

// How a key's Redis value reads (docs/tier.md): a value as the service
// stored it, or one of the tier's placeholders, which begin with
// ReservedPrefix: a lock (an instance is loading the key; the rest is its
// owner token) or "absent" (the loader reported the key missing).
const (
	// ReservedPrefix begins the tier's placeholders in Redis; values that
	// begin with it cannot be stored (ErrReservedValue).
	ReservedPrefix = "\x00ringcache:"
	lockPrefix     = ReservedPrefix + "lock:"
	absentValue    = ReservedPrefix + "absent"
)

func isReserved(v []byte) bool { return bytes.HasPrefix(v, []byte(ReservedPrefix)) }

// ValueOf is for other programs that read the keys a Tier writes in Redis
// with a client of their own: it returns raw, what GET returned, when it
// is a value, and false when it is one of the tier's placeholders (an
// instance is loading the key, or the loader reported it missing), which
// such a reader should treat as a miss.
func ValueOf(raw []byte) ([]byte, bool) {
	if isReserved(raw) {
		return nil, false
	}
	return raw, true
}

// The lock's scripts: each checks the owner token and acts in one step,
// so a write of the key by anyone (Set, Invalidate, another client's SET
// or DEL) that replaced the lock makes them do nothing.
var (
	// storeScript replaces the lock with the loaded value (or the absent
	// placeholder) and its TTL in ms (0: none); it returns 1, or 0 when
	// the lock is no longer this load's.
	storeScript = rueidis.NewLuaScript(`if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == "0" then redis.call("SET", KEYS[1], ARGV[2]) else redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3]) end
return 1`)
	// renewScript extends the lock while the load runs.
	renewScript = rueidis.NewLuaScript(`if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call("PEXPIRE", KEYS[1], ARGV[2])`)
	// releaseScript deletes the lock after a failed load.
	releaseScript = rueidis.NewLuaScript(`if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call("DEL", KEYS[1])`)
)

// loadArgs are what a local miss needs: a function of them (not a
// closure made per call) keeps a local hit free of allocations.
type loadArgs struct {
	t    *Tier
	load ringcache.LoadFunc
}

func fetch(ctx context.Context, key []byte, a loadArgs) ([]byte, time.Duration, error) {
	return a.t.fetch(ctx, key, a.load)
}

// fetch is the local tier's loader: what a local miss runs, once per
// instance for concurrent callers.
func (t *Tier) fetch(ctx context.Context, key []byte, load ringcache.LoadFunc) ([]byte, time.Duration, error) {
	k := string(key)
	for {
		if t.closed.Load() {
			return nil, 0, ringcache.ErrClosed
		}
		if !t.delivered(ctx, k) {
			return t.direct(ctx, key, load)
		}
		ch := t.waits.register(k)
		r, err := t.read(ctx, k)
		if err == nil && r.kind == foundLock {
			// Another load holds the key: wait for the notice that it
			// stored (or released) it, or for the lock to expire.
			t.stats.lockWaits.Add(1)
			err := wait(ctx, ch, t.lockWait(r.pxat))
			t.waits.release(k, ch)
			if err != nil {
				return nil, 0, err
			}
			continue
		}
		t.waits.release(k, ch)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, 0, ctx.Err()
		case err != nil:
			return t.direct(ctx, key, load)
		}
		if v, d, ok, err := t.answer(r); ok {
			return v, d, err
		}
		token, err := t.lock(ctx, k)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, 0, ctx.Err()
		case err != nil:
			return t.direct(ctx, key, load)
		case token == "":
			continue // another instance locked it first: read again
		}
		return t.loadLocked(ctx, key, token, load)
	}
}

// errPeekMissed is peek's miss: Get reports it as ErrNotCached, and a
// GetOrLoad that joined Get's lookup looks again. It is the tier's own,
// so that a LoadFunc's error can never be taken for it.
var errPeekMissed = errors.New("tier: peek missed")

// peek is Get's loader: Redis's value, never the loader's.
func peek(ctx context.Context, key []byte, t *Tier) ([]byte, time.Duration, error) {
	k := string(key)
	if !t.delivered(ctx, k) {
		return nil, 0, errDown
	}
	r, err := t.read(ctx, k)
	if err != nil {
		return nil, 0, err
	}
	if v, d, ok, err := t.answer(r); ok {
		return v, d, err
	}
	return nil, 0, errPeekMissed
}

// answer is what a local miss returns for what a read found in Redis: a
// value, or ringcache.ErrNotFound for the absent placeholder, counted as a Redis
// hit. ok is false, and a Redis miss counted, when Redis held neither.
func (t *Tier) answer(r reading) (v []byte, d time.Duration, ok bool, err error) {
	switch r.kind {
	case foundValue:
		t.stats.redisHits.Add(1)
		return r.value, t.localTTL(r.pxat), true, nil
	case foundAbsent:
		t.stats.redisHits.Add(1)
		return nil, 0, true, ringcache.ErrNotFound
	}
	t.stats.redisMisses.Add(1)
	return nil, 0, false, nil
}

// delivered reports whether key has no write queued, delivering the
// queued one first: nothing is read from Redis for a key whose write
// has not reached it.
func (t *Tier) delivered(ctx context.Context, key string) bool {
	q, ok := t.pending.has(key)
	return !ok || t.deliverOne(ctx, q)
}

type found uint8

const (
	foundNothing found = iota
	foundValue
	foundAbsent
	foundLock
)

// reading is what a tracked read of a key found, and the key's expiry in
// Redis (unix ms, or -1 for none).
type reading struct {
	kind  found
	value []byte
	pxat  int64
}

// read GETs key with client-side tracking: from here on, a change of the
// key in Redis sends this instance a notice.
func (t *Tier) read(ctx context.Context, key string) (reading, error) {
	c, done, err := t.call()
	if err != nil {
		return reading{}, err
	}
	rctx, cancel := t.bounded(ctx)
	res := c.DoCache(rctx, c.B().Get().Key(key).Cache(), t.cfg.LocalTTL)
	cancel()
	v, err := res.AsBytes()
	done(ctx, err)
	switch {
	case rueidis.IsRedisNil(err):
		return reading{kind: foundNothing}, nil
	case err != nil:
		return reading{}, unavailable(err)
	}
	r := reading{kind: foundValue, value: v, pxat: res.CachePXAT()}
	switch {
	case !isReserved(v):
	case bytes.HasPrefix(v, []byte(lockPrefix)):
		r.kind = foundLock
	case string(v) == absentValue:
		r.kind = foundAbsent
	}
	return r, nil
}

// localTTL is the life of a local copy of a key that expires in Redis at
// pxat: LocalTTL at most, UntrackedTTL while the tier is down.
func (t *Tier) localTTL(pxat int64) time.Duration {
	d := t.cfg.LocalTTL
	if !t.up.Load() {
		d = t.cfg.UntrackedTTL // no lease vouches for the notices
	}
	if pxat > 0 {
		if left := time.Until(time.UnixMilli(pxat)); left < d {
			d = max(left, time.Millisecond)
		}
	}
	return d
}

// lockWait is how long to wait for a notice about a locked key before
// reading it again: until the lock expires, and a little more.
func (t *Tier) lockWait(pxat int64) time.Duration {
	d := t.cfg.LockTTL
	if pxat > 0 {
		if left := time.Until(time.UnixMilli(pxat)); left < d {
			d = max(left, 0)
		}
	}
	return d + 5*time.Millisecond
}

// lock takes key's lock in Redis if nothing is stored there; it returns
// the owner token, or "" when the key holds something.
func (t *Tier) lock(ctx context.Context, key string) (string, error) {
	var raw [16]byte
	binary.LittleEndian.PutUint64(raw[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(raw[8:], rand.Uint64())
	token := lockPrefix + hex.EncodeToString(raw[:])
	c, done, err := t.call()
	if err != nil {
		return "", err
	}
	rctx, cancel := t.bounded(ctx)
	err = c.Do(rctx, c.B().Set().Key(key).Value(token).Nx().Px(t.cfg.LockTTL).Build()).Error()
	cancel()
	done(ctx, err)
	switch {
	case rueidis.IsRedisNil(err):
		return "", nil
	case err != nil:
		return "", unavailable(err)
	}
	return token, nil
}

// direct is a load without Redis: it is unreachable or the breaker is
// open. The value is kept locally for UntrackedTTL only, since no notice
// covers it.
func (t *Tier) direct(ctx context.Context, key []byte, load ringcache.LoadFunc) ([]byte, time.Duration, error) {
	t.stats.directLoads.Add(1)
	value, d, err := load(ctx, key)
	if err != nil {
		return value, d, err
	}
	if d < 0 {
		return value, d, nil // the local tier reports ringcache.ErrInvalidTTL
	}
	return value, t.cfg.UntrackedTTL, nil
}

// loadLocked runs the loader under key's lock, renewing the lock while
// it runs, and stores the result in Redis if the lock is still this
// load's. The local tier stores it only if a read-back (which also
// tracks the key again) finds it in Redis.
func (t *Tier) loadLocked(ctx context.Context, key []byte, token string, load ringcache.LoadFunc) ([]byte, time.Duration, error) {
	k := string(key)
	t.stats.loads.Add(1)
	value, d, err := t.loadRenewing(ctx, key, token, load)
	// The result is stored even if every caller gave up: other instances
	// are waiting for it.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), t.cfg.RedisTimeout)
	defer cancel()
	var stored []byte
	switch {
	case errors.Is(err, ringcache.ErrNotFound) && t.cfg.NegativeTTL > 0:
		stored = []byte(absentValue)
		d = t.cfg.NegativeTTL
	case err != nil:
		t.release(sctx, k, token)
		return value, d, err
	case d < 0:
		t.release(sctx, k, token)
		return value, d, nil // the local tier reports ringcache.ErrInvalidTTL
	case isReserved(value):
		t.release(sctx, k, token)
		return nil, 0, ErrReservedValue
	default:
		stored = value
		if d == 0 {
			d = t.cfg.TTL
		}
	}
	ok, serr := t.store(sctx, k, token, stored, d)
	t.waits.wake(k) // NOLOOP: this instance's own waiters hear it here
	if serr != nil || !ok {
		// A write replaced the lock (or Redis failed): the result must
		// not outlive this call. Moving the key's local generation keeps
		// the local tier from storing it.
		t.stats.discarded.Add(1)
		t.local.Delete(key)
		return value, d, err
	}
	r, rerr := t.read(sctx, k)
	switch {
	case rerr == nil && r.kind == foundAbsent && err != nil:
		return nil, 0, err
	case rerr == nil && r.kind == foundValue && bytes.Equal(r.value, value):
		return value, t.localTTL(r.pxat), nil
	}
	t.local.Delete(key) // written since, or unknown: keep no copy
	return value, d, err
}

// loadRenewing calls load while keeping key's lock alive; if load
// panics, the renewal stops and the lock expires as if its holder died.
func (t *Tier) loadRenewing(ctx context.Context, key []byte, token string, load ringcache.LoadFunc) ([]byte, time.Duration, error) {
	defer t.renew(string(key), token)()
	return load(ctx, key)
}

// store replaces the lock with v for d (0: no expiry).
func (t *Tier) store(ctx context.Context, key, token string, v []byte, d time.Duration) (bool, error) {
	c, done, err := t.call()
	if err != nil {
		return false, err
	}
	n, err := storeScript.Exec(ctx, c, []string{key}, []string{token, string(v), strconv.FormatInt(d.Milliseconds(), 10)}).AsInt64()
	done(ctx, err)
	return n == 1, err
}

// release deletes the lock after a failed load, waking the waiters so
// that one of them loads.
func (t *Tier) release(ctx context.Context, key, token string) {
	if c, done, err := t.call(); err == nil {
		err = releaseScript.Exec(ctx, c, []string{key}, []string{token}).Error()
		done(ctx, err)
	}
	t.waits.wake(key)
}

// renew extends the lock every LockTTL/3 until stop is called.
func (t *Tier) renew(key, token string) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(t.cfg.LockTTL / 3)
		defer tick.Stop()
		ms := strconv.FormatInt(t.cfg.LockTTL.Milliseconds(), 10)
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				ctx, cancel := context.WithTimeout(context.Background(), t.cfg.RedisTimeout)
				if c, done, err := t.call(); err == nil {
					err = renewScript.Exec(ctx, c, []string{key}, []string{token, ms}).Error()
					done(ctx, err)
				}
				cancel()
			}
		}
	}()
	return func() { close(quit); <-finished }
}
