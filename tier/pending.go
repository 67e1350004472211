package tier

import (
	"sync"
	"sync/atomic"
)

// pending are the writes that could not reach Redis: the keys, not the
// values, since delivering a write later means deleting the key in Redis
// (whose old value would otherwise be served to every instance), after
// which the next read loads the truth. The heartbeat delivers them when
// Redis answers again, before the tier reads Redis; a read of a queued
// key delivers it first or goes to the loader.
type pending struct {
	n  atomic.Int64 // len(m), to keep the read path lock-free when empty
	mu sync.Mutex
	m  map[string]uint64
	// seq numbers each queuing, so that a delivery that raced a newer
	// write of the same key does not take that write off the queue.
	seq uint64
}

// queued is a key on the queue and the number of its latest queuing.
type queued struct {
	key string
	seq uint64
}

// add queues key; it reports whether key was not queued already.
func (p *pending) add(key string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.m == nil {
		p.m = make(map[string]uint64)
	}
	p.seq++
	_, had := p.m[key]
	p.m[key] = p.seq
	if !had {
		p.n.Add(1)
	}
	return !had
}

// has reports whether key is queued.
func (p *pending) has(key string) (queued, bool) {
	if p.n.Load() == 0 {
		return queued{}, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	seq, ok := p.m[key]
	return queued{key, seq}, ok
}

// keys returns the queue.
func (p *pending) keys() []queued {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]queued, 0, len(p.m))
	for k, seq := range p.m {
		out = append(out, queued{k, seq})
	}
	return out
}

// done takes q off the queue after its delivery, unless the key was
// queued again since; it reports whether it did.
func (p *pending) done(q queued) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if seq, ok := p.m[q.key]; !ok || seq != q.seq {
		return false
	}
	delete(p.m, q.key)
	p.n.Add(-1)
	return true
}

// len is the number of queued keys.
func (p *pending) len() int { return int(p.n.Load()) }
