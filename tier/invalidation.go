package tier

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/redis/rueidis"
)

// notices is the rueidis CacheStore of a connection: the tier's local
// copies live in its ringcache, not in rueidis, so the store keeps
// nothing itself. It turns what the connections report into changes of
// the local tier:
//
//   - an invalidation push for a key deletes the local copy (moving the
//     key's write generation, so a load of it in flight is not stored) and
//     wakes the callers waiting for another instance's load of it;
//   - a push for every key (FLUSHALL, FLUSHDB) clears the local tier, and
//     so does the end of a connection that carried a tracked read:
//     notices for it may have been lost. (rueidis also ends connections
//     that never read, when it learns a cluster's layout; those clear
//     nothing.)
//
// rueidis calls Update and Delete from a connection's read loop in the
// order Redis sent the reply and the push, so a value read before a write
// is never stored after that write's notice was handled.
type notices struct {
	t    *Tier
	read atomic.Bool // a tracked read's reply came on this connection
}

// Flight reports a miss: the tier asks rueidis only after its own lookup
// missed, and coalesces concurrent misses itself.
func (n *notices) Flight(string, string, time.Duration, time.Time) (rueidis.RedisMessage, rueidis.CacheEntry) {
	return rueidis.RedisMessage{}, nil
}

// Update keeps the key's expiry in Redis on the reply, where the tier
// reads it to cap the local copy's life.
func (n *notices) Update(_, _ string, val rueidis.RedisMessage) int64 {
	n.read.Store(true)
	if pxat := val.CachePXAT(); pxat > 0 {
		return pxat
	}
	return 0
}

func (n *notices) Cancel(string, string, error) {}

func (n *notices) Delete(keys []rueidis.RedisMessage) {
	if keys == nil {
		n.t.reset()
		return
	}
	for i := range keys {
		key, err := keys[i].ToString()
		if err != nil {
			continue
		}
		n.t.invalidated(key)
	}
}

func (n *notices) Close(error) {
	if n.read.Load() {
		n.t.reset()
	}
}

// waiters are the callers waiting for another instance's load of a key:
// an invalidation of the key wakes them.
type waiters struct {
	n  atomic.Int64 // keys with a registration, to keep wake lock-free when none
	mu sync.Mutex
	m  map[string]*waiting
}

type waiting struct {
	ch   chan struct{}
	refs int
}

// register returns a channel closed by the key's next invalidation (or a
// reset). It is called before the read that may find another instance's
// lock, so that a notice between the read and the wait is not missed;
// release undoes it.
func (w *waiters) register(key string) chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = make(map[string]*waiting)
	}
	e := w.m[key]
	if e == nil {
		e = &waiting{ch: make(chan struct{})}
		w.m[key] = e
		w.n.Add(1)
	}
	e.refs++
	return e.ch
}

// release drops a registration of key that returned ch.
func (w *waiters) release(key string, ch chan struct{}) {
	w.mu.Lock()
	if e := w.m[key]; e != nil && e.ch == ch {
		if e.refs--; e.refs == 0 {
			delete(w.m, key)
			w.n.Add(-1)
		}
	}
	w.mu.Unlock()
}

// wake closes the key's channel, if it has one.
func (w *waiters) wake(key string) {
	if w.n.Load() == 0 {
		return
	}
	w.mu.Lock()
	if e := w.m[key]; e != nil {
		close(e.ch)
		delete(w.m, key)
		w.n.Add(-1)
	}
	w.mu.Unlock()
}

// wakeAll closes every channel.
func (w *waiters) wakeAll() {
	w.mu.Lock()
	for key, e := range w.m {
		close(e.ch)
		delete(w.m, key)
		w.n.Add(-1)
	}
	w.mu.Unlock()
}

// pending is the number of keys with a registration.
func (w *waiters) pending() int { return int(w.n.Load()) }

// wait blocks until ch is closed, d passes or ctx is done.
func wait(ctx context.Context, ch <-chan struct{}, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// bytesOf views s as bytes for the local cache's methods, which do not
// keep or change their key.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
