package ringcache

import (
	"sync"
	"sync/atomic"

	"github.com/ringcache/ringcache/ttl"
)

// The loading layer's memory of loader errors, for Config.ErrorTTL.

// maxCachedErrors bounds the errors ErrorTTL keeps; past it, the oldest
// go first.
const maxCachedErrors = 4096

// errorCache remembers loader errors for ErrorTTL. It is a plain map under
// a mutex, bounded, and touched only on misses and loads while it holds
// anything. Each error carries the write generation its load began at: a
// write of the key since then makes it stale, without the write having to
// look here.
type errorCache struct {
	mu    sync.Mutex
	count atomic.Int64
	m     map[string]cachedError
	order []string // insertion order, for dropping the oldest
}

type cachedError struct {
	err   error
	until int64
	gen   uint32
}

func (e *errorCache) get(key []byte, now int64, gen uint32) error {
	if e.count.Load() == 0 {
		return nil
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	ce, ok := e.m[string(key)]
	if !ok {
		return nil
	}
	switch {
	case ttl.Expired(ce.until, now), int32(gen-ce.gen) > 0:
		// Expired, or a write came after its load began.
		delete(e.m, string(key))
		e.count.Store(int64(len(e.m)))
		return nil
	case ce.gen != gen:
		return nil // this caller began before the load that failed
	}
	return ce.err
}

func (e *errorCache) put(key []byte, err error, until int64, gen uint32) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.m == nil {
		e.m = make(map[string]cachedError)
	}
	for len(e.m) >= maxCachedErrors && len(e.order) > 0 {
		delete(e.m, e.order[0])
		e.order = e.order[1:]
	}
	k := string(key)
	if _, ok := e.m[k]; !ok {
		e.order = append(e.order, k)
	}
	if len(e.order) > 2*maxCachedErrors {
		// Keys forgotten since they were put linger in order; drop them.
		live := e.order[:0]
		for _, o := range e.order {
			if _, ok := e.m[o]; ok {
				live = append(live, o)
			}
		}
		e.order = live
	}
	e.m[k] = cachedError{err: err, until: until, gen: gen}
	e.count.Store(int64(len(e.m)))
}

func (e *errorCache) forget(key []byte) {
	if e.count.Load() == 0 {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.m, string(key))
	e.count.Store(int64(len(e.m)))
}
