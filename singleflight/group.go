package singleflight

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// ErrGoexit is returned to waiters when the function called
// runtime.Goexit instead of returning.
var ErrGoexit = errors.New("singleflight: function called runtime.Goexit")

// PanicError is returned to waiters when the function panicked.
type PanicError struct {
	Value any    // what the function panicked with
	Stack []byte // the panicking goroutine's stack
}

func (p *PanicError) Error() string {
	return fmt.Sprintf("singleflight: function panicked: %v\n\n%s", p.Value, p.Stack)
}

// Unwrap returns the panic value when it is an error.
func (p *PanicError) Unwrap() error {
	err, _ := p.Value.(error)
	return err
}

// Group deduplicates calls per key. The zero value is ready to use; a Group
// must not be copied after first use.
type Group[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*call[V]
}

type call[V any] struct {
	done    chan struct{}
	val     V
	err     error
	waiters int // callers still waiting; guarded by Group.mu
	dups    int // callers that joined after the first; guarded by Group.mu
	cancel  context.CancelFunc
}

// Do returns the result of fn for key, calling it at most once among
// concurrent callers: the first starts fn in a goroutine of its own, and
// every caller, the first included, waits for it or for its own ctx to be
// done, whichever comes first. shared reports that the result was computed
// for another caller too.
//
// fn gets a context that carries ctx's values but not its cancellation; it
// is cancelled when every caller waiting for the call has given up. A
// caller that gives up gets ctx.Err(). A nil fn returns an error.
func (g *Group[K, V]) Do(ctx context.Context, key K, fn func(context.Context) (V, error)) (v V, shared bool, err error) {
	if fn == nil {
		return v, false, errors.New("singleflight: nil function")
	}
	g.mu.Lock()
	if g.calls == nil {
		g.calls = make(map[K]*call[V])
	}
	c, inFlight := g.calls[key]
	if inFlight {
		c.waiters++
		c.dups++
	} else {
		c = &call[V]{done: make(chan struct{}), waiters: 1}
		var callCtx context.Context
		callCtx, c.cancel = context.WithCancel(context.WithoutCancel(ctx))
		g.calls[key] = c
		go g.run(key, c, callCtx, fn)
	}
	g.mu.Unlock()

	select {
	case <-c.done:
		g.mu.Lock()
		c.waiters--
		shared = c.dups > 0
		g.mu.Unlock()
		return c.val, shared, c.err
	case <-ctx.Done():
		g.mu.Lock()
		if c.waiters--; c.waiters == 0 {
			select {
			case <-c.done:
			default:
				// Nobody wants the result any more: stop the work, and
				// let the next caller start a fresh call.
				c.cancel()
				if g.calls[key] == c {
					delete(g.calls, key)
				}
			}
		}
		g.mu.Unlock()
		return v, false, ctx.Err()
	}
}

func (g *Group[K, V]) run(key K, c *call[V], ctx context.Context, fn func(context.Context) (V, error)) {
	returned := false
	defer func() {
		if !returned {
			if r := recover(); r != nil {
				c.err = &PanicError{Value: r, Stack: debug.Stack()}
			} else {
				c.err = ErrGoexit
			}
		}
		c.cancel()
		g.mu.Lock()
		if g.calls[key] == c {
			delete(g.calls, key)
		}
		g.mu.Unlock()
		close(c.done)
	}()
	c.val, c.err = fn(ctx)
	returned = true
}

// Forget makes the next Do of key start a new call instead of joining
// the one in flight, if any; that call goes on, and the callers already
// waiting for it get its result. Use it when the result of a call under
// way is known to be stale (x/sync's singleflight has the same method).
func (g *Group[K, V]) Forget(key K) {
	g.mu.Lock()
	delete(g.calls, key)
	g.mu.Unlock()
}

// InFlight reports whether a call for key is running.
func (g *Group[K, V]) InFlight(key K) bool {
	g.mu.Lock()
	_, ok := g.calls[key]
	g.mu.Unlock()
	return ok
}
