package tier

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/rueidis"
)

// The tier's link to Redis. A heartbeat pings every node each Lease/4 on
// the connection that carries its tracked reads and notices; a node's
// reply comes after every notice Redis sent before it, so an answered
// round proves the local tier had heard of every change made before the
// round was sent. The lease runs Lease from that send:
//
//   - while it holds, the tier is up: local copies of tracked reads live
//     for LocalTTL;
//   - once it lapses (a node went silent, or the tier never connected),
//     the local tier is cleared and the tier is down: every copy lives
//     for UntrackedTTL only, since a notice may be missed. While no node
//     answers, nothing is asked of Redis: reads call the loader and
//     writes are queued (pending.go) without waiting. While some do (a
//     part of a cluster is down), Redis is used where it answers, and
//     the queue delivered where it can be;
//   - the first round every node answers after that delivers the queued
//     writes, closes the breaker, clears the untracked copies and brings
//     the tier up.

// client returns the Redis client, or an error wrapping ErrUnavailable
// before the first connection.
func (t *Tier) client() (rueidis.Client, error) {
	if c := t.redis.Load(); c != nil {
		return *c, nil
	}
	return nil, fmt.Errorf("%w: not connected yet", ErrUnavailable)
}

// leased reports whether the tier is up and its lease holds, lapsing it
// if it ran out: the check a read makes before it serves a local copy.
func (t *Tier) leased() bool {
	if !t.up.Load() {
		return false
	}
	end := t.leaseEnd.Load()
	// A heartbeat every Lease/4 keeps the end over 3/4 of a lease ahead:
	// only a late one brings it within half a lease, where the clock's
	// word, which lags real time under load, is checked against the time
	// itself.
	if now := t.clock.Now(); now < end-t.cfg.Lease.Milliseconds()/2 || now < end && t.clock.Exact() < end {
		return true
	}
	t.lapse()
	return false
}

// epoch bounds the Redis calls made while the tier is up (and those made
// since, while it is down): a lapse cancels them, so that a call that
// met a silent Redis waits for the lease at most, not RedisTimeout.
type epoch struct {
	ctx    context.Context
	cancel context.CancelFunc
}

// newEpoch begins an epoch and cancels the calls of the last.
func (t *Tier) newEpoch() {
	ctx, cancel := context.WithCancel(context.Background())
	if old := t.epoch.Swap(&epoch{ctx, cancel}); old != nil {
		old.cancel()
	}
}

// bounded is the context of a Redis call: ctx's, for RedisTimeout at most,
// and until the epoch ends.
func (t *Tier) bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	rctx, cancel := context.WithTimeout(ctx, t.cfg.RedisTimeout)
	stop := context.AfterFunc(t.epoch.Load().ctx, cancel)
	return rctx, func() { stop(); cancel() }
}

// lapse marks the tier down and clears the local tier, once per outage.
// Until a heartbeat hears some node again, nothing is asked of Redis, and
// the calls waiting on it give up.
func (t *Tier) lapse() {
	if t.up.CompareAndSwap(true, false) {
		t.partial.Store(false)
		t.newEpoch()
		t.reset()
		t.stats.lapses.Add(1) // counted once done: a reader who sees it is safe
	}
}

// connect makes the Redis client. A refusal by Redis itself (a wrong
// password, a server too old for RESP3) is returned as it is, to New;
// any other failure means Redis is not there yet.
func (t *Tier) connect() error {
	c, err := rueidis.NewClient(t.opt)
	if err == nil {
		t.redis.Store(&c)
		return nil
	}
	t.stats.connectErrors.Add(1)
	var re *rueidis.RedisError
	if errors.As(err, &re) {
		msg := re.Error()
		if strings.HasPrefix(msg, "WRONGPASS") || strings.HasPrefix(msg, "NOAUTH") || strings.HasPrefix(msg, "NOPERM") {
			return fmt.Errorf("%w: %w", ErrAuth, err)
		}
		if !re.IsLoading() && !re.IsTryAgain() && !re.IsClusterDown() {
			return fmt.Errorf("%w: Redis refused the connection: %w", ErrInvalidConfig, err)
		}
	}
	return unavailable(err)
}

// heartbeat runs until Close: it connects when the tier has no client
// yet and renews the lease.
func (t *Tier) heartbeat() {
	defer close(t.stopped)
	tick := time.NewTicker(max(t.cfg.Lease/4, time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-t.quit:
			return
		case <-tick.C:
		}
		if t.redis.Load() == nil && t.connect() != nil {
			continue
		}
		t.beat()
	}
}

// beat pings every node and, when all answer, delivers the queued writes
// and renews the lease, bringing the tier up if it was down. While some
// nodes answer and others do not (part of a cluster is down), it
// delivers what it can, and lets the tier use Redis for what it can.
func (t *Tier) beat() {
	c, err := t.client()
	if err != nil {
		return
	}
	sent := t.clock.Now()
	answered, all := t.pingAll(c)
	if !all {
		t.leased() // lapse now if it ran out, without waiting for a read
		t.partial.Store(answered > 0 && !t.up.Load())
	}
	if answered > 0 && t.pending.len() > 0 && !t.deliver(c, t.pending.keys()) {
		all = false
		t.leased()
	}
	if !all {
		return
	}
	t.leaseEnd.Store(sent + t.cfg.Lease.Milliseconds())
	t.stats.beats.Add(1)
	if !t.up.Load() {
		t.breaker.reset()
		t.up.Store(true)
		t.partial.Store(false)
		// Copies loaded while down were kept untracked: drop them, and
		// the loads still in flight from then, so that every copy from
		// here on is tracked.
		t.reset()
		t.stats.recoveries.Add(1)
	}
}

// pingAll pings each node once, within Lease, and returns how many
// answered and whether all did.
func (t *Tier) pingAll(c rueidis.Client) (answered int, all bool) {
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.Lease)
	defer cancel()
	nodes := c.Nodes()
	var n atomic.Int32
	var wg sync.WaitGroup
	for _, node := range nodes {
		wg.Go(func() {
			if node.Do(ctx, node.B().Ping().Build()).Error() == nil {
				n.Add(1)
			}
		})
	}
	wg.Wait()
	answered = int(n.Load())
	return answered, len(nodes) > 0 && answered == len(nodes)
}

// deliver deletes the queued keys in Redis, within RedisTimeout, and
// takes those it deleted off the queue; it reports whether all went.
func (t *Tier) deliver(c rueidis.Client, keys []queued) bool {
	ctx, cancel := context.WithTimeout(context.Background(), t.cfg.RedisTimeout)
	defer cancel()
	cmds := make(rueidis.Commands, len(keys))
	for i, q := range keys {
		cmds[i] = c.B().Del().Key(q.key).Build()
	}
	all := true
	for i, r := range c.DoMulti(ctx, cmds...) {
		if isFailure(r.Error()) {
			all = false
			continue
		}
		if t.pending.done(keys[i]) {
			t.stats.delivered.Add(1)
		}
	}
	return all
}
