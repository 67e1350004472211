package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/shard"
	"github.com/ringcache/ringcache/ttl"
)

// engine is what the harness drives: a shard or a whole cache, on a
// manual clock.
type engine interface {
	set(key, value []byte, d time.Duration) error
	get(key []byte) ([]byte, bool)
	has(key []byte) bool
	del(key []byte) bool
	touch(key []byte, d time.Duration) bool
	clear()
	check() error
	bytesUsed() int
	capacity() int
	maxPayload() int
	maxKey() int
}

// modelEntry is what the model knows of a key: the value last written and
// its expiry on the manual clock.
type modelEntry struct {
	value     []byte
	expiry    int64
	versioned bool // written by SetIfNewer, with version
	version   uint64
}

// keys are few and of varied lengths, the empty key included, so that
// operations keep landing on entries that exist.
var keys = func() [][]byte {
	ks := [][]byte{{}}
	for i := 1; i < 24; i++ {
		ks = append(ks, bytes.Repeat([]byte{byte('a' + i)}, 1+i*i%37))
	}
	return ks
}()

// input reads operation fields from fuzz data, yielding zeros once empty.
type input struct{ data []byte }

func (in *input) byte() byte {
	if len(in.data) == 0 {
		return 0
	}
	b := in.data[0]
	in.data = in.data[1:]
	return b
}

func (in *input) u16() int { return int(in.byte()) | int(in.byte())<<8 }

// run executes the operations encoded in data against e and the model and
// returns the first broken invariant.
func run(data []byte, e engine, clock *ttl.Clock) error {
	in := &input{data: data}
	model := map[string]modelEntry{}
	live := func(k []byte) (modelEntry, bool) {
		m, ok := model[string(k)]
		return m, ok && !ttl.Expired(m.expiry, clock.Now())
	}
	// Loads in flight, for engines that take them: the generation each
	// began at, and whether a write of its key came since.
	f, fills := e.(filler)
	loads := map[string]*load{}
	wrote := func(k []byte) {
		if l := loads[string(k)]; l != nil {
			l.overtaken = true
		}
	}
	for step := 0; len(in.data) > 0; step++ {
		op, key := in.byte(), keys[int(in.byte())%len(keys)]
		var err error
		switch op % 8 {
		case 0, 1: // set, possibly too large, possibly with a TTL
			n := in.u16() % (e.maxPayload() + 64)
			d := time.Duration(0)
			if op%8 == 1 {
				d = time.Duration(in.byte()) * time.Millisecond
			}
			value := valueFor(step, n)
			err = e.set(key, value, d)
			switch tooLarge := tooLarge(e, key, value); {
			case tooLarge || err != nil:
				if err := wantError(e, key, value, err); err != nil {
					return fmt.Errorf("step %d: set of %d bytes: %w", step, len(key)+len(value), err)
				}
			default:
				wrote(key)
				model[string(key)] = modelEntry{value: value, expiry: ttl.Stamp(clock.Now(), d)}
				if !e.has(key) {
					return fmt.Errorf("step %d: key %q missing right after its set", step, key)
				}
			}
		case 2, 3: // get
			got, ok := e.get(key)
			m, want := live(key)
			switch {
			case ok && !want:
				return fmt.Errorf("step %d: get %q returned %d bytes for a key deleted, expired or never set", step, key, len(got))
			case ok && !bytes.Equal(got, m.value):
				return fmt.Errorf("step %d: get %q returned the wrong bytes", step, key)
			case !ok:
				delete(model, string(key)) // evicted or expired: gone for good
			}
		case 4: // delete
			wrote(key)
			ok := e.del(key)
			if _, want := live(key); ok && !want {
				return fmt.Errorf("step %d: delete %q found an entry the model says is gone", step, key)
			}
			delete(model, string(key))
		case 5: // touch
			wrote(key)
			d := time.Duration(in.byte()) * time.Millisecond
			ok := e.touch(key, d)
			m, want := live(key)
			if ok && !want {
				return fmt.Errorf("step %d: touch %q succeeded on a key the model says is gone", step, key)
			}
			if ok {
				m.expiry = ttl.Stamp(clock.Now(), d)
				model[string(key)] = m
			} else {
				delete(model, string(key))
			}
		case 6:
			clock.Advance(time.Duration(in.byte()) * time.Millisecond)
		case 7:
			switch b := in.byte(); {
			case b%16 == 0:
				for k := range loads {
					wrote([]byte(k))
				}
				e.clear()
				clear(model)
			case b%16 >= 2 && b%16 <= 4:
				if x, ok := e.(extended); ok {
					if err := runExtended(x, b%16-2, key, in, step, model, clock); err != nil {
						return fmt.Errorf("step %d: %w", step, err)
					}
				}
			case b%16 == 1 && fills:
				// Begin a load of key, or finish the one in flight: its
				// value may be stored only if no write of key came since.
				l := loads[string(key)]
				if l == nil {
					loads[string(key)] = &load{gen: f.generation(key)}
					break
				}
				delete(loads, string(key))
				d := time.Duration(in.byte()) * time.Millisecond
				value := valueFor(step, int(b))
				stored, err := f.fill(key, value, d, l.gen)
				switch tooLarge := tooLarge(e, key, value); {
				case tooLarge || err != nil:
					if err := wantError(e, key, value, err); err != nil {
						return fmt.Errorf("step %d: fill of %d bytes: %w", step, len(key)+len(value), err)
					}
				case stored && l.overtaken:
					return fmt.Errorf("step %d: a load of %q that began before a write of it was stored", step, key)
				case stored:
					model[string(key)] = modelEntry{value: value, expiry: ttl.Stamp(clock.Now(), d)}
				}
			}
		}
		if err := verify(e, model, clock); err != nil {
			return fmt.Errorf("step %d (op %d): %w", step, op%8, err)
		}
	}
	return nil
}

// tooLarge reports whether e must refuse a write of key and value: the
// key is over its key limit or the entry over its payload limit.
func tooLarge(e engine, key, value []byte) bool {
	return len(key) > e.maxKey() || len(key)+len(value) > e.maxPayload()
}

// wantError checks the error of a write of key and value: ErrKeyTooLarge
// for a key over e's key limit, ErrEntryTooLarge for an entry over its
// payload limit, none otherwise.
func wantError(e engine, key, value []byte, err error) error {
	switch {
	case len(key) > e.maxKey():
		if !errors.Is(err, ringcache.ErrKeyTooLarge) {
			return fmt.Errorf("got %v for a key of %d bytes, want ErrKeyTooLarge", err, len(key))
		}
	case len(key)+len(value) > e.maxPayload():
		if !errors.Is(err, ringcache.ErrEntryTooLarge) {
			return fmt.Errorf("got %v, want ErrEntryTooLarge", err)
		}
	case err != nil:
		return fmt.Errorf("unexpected error: %w", err)
	}
	return nil
}

// verify checks the engine's own invariants and that every key it claims
// to hold is one the model holds unexpired.
func verify(e engine, model map[string]modelEntry, clock *ttl.Clock) error {
	if err := e.check(); err != nil {
		return err
	}
	if used, limit := e.bytesUsed(), e.capacity(); used > limit {
		return fmt.Errorf("%d bytes used, over the capacity of %d", used, limit)
	}
	for _, k := range keys {
		m, ok := model[string(k)]
		if e.has(k) && (!ok || ttl.Expired(m.expiry, clock.Now())) {
			return fmt.Errorf("key %q is held but the model says it is gone", k)
		}
	}
	return nil
}

// valueFor returns n bytes that differ from step to step.
func valueFor(step, n int) []byte {
	v := make([]byte, n)
	for i := range v {
		v[i] = byte(step*31 + i)
	}
	return v
}

// filler is an engine that takes loads: a generation read before a load
// begins, and a store that happens only if no write came since.
type filler interface {
	generation(key []byte) uint32
	fill(key, value []byte, d time.Duration, gen uint32) (bool, error)
}

// load is a load in flight in the model.
type load struct {
	gen       uint32
	overtaken bool // a write of the key came since gen was read
}

type shardEngine struct {
	s     *shard.Shard
	clock *ttl.Clock
	size  int
}

func newShardEngine(size int, o shard.Options, clock *ttl.Clock) (*shardEngine, error) {
	e := &shardEngine{s: &shard.Shard{}, clock: clock, size: size}
	return e, e.s.Init(make([]byte, size), o)
}

func (e *shardEngine) set(k, v []byte, d time.Duration) error {
	now := e.clock.Now()
	return e.s.Set(e.s.Hash(k), k, v, now, ttl.Stamp(now, d), false)
}

// get reads as the cache does: without the lock first (Get), and under
// it (Read) when Get leaves the read to the lock.
func (e *shardEngine) get(k []byte) ([]byte, bool) {
	h, now := e.s.Hash(k), e.clock.Now()
	switch v, o, _ := e.s.Get(nil, h, k, now, new([shard.MaxFrameHead]byte)); o {
	case shard.Hit:
		return v, true
	case shard.Miss:
		e.s.Missed(h)
		return nil, false
	}
	var v []byte
	ok, _ := e.s.Read(h, k, now, func(b []byte, _ bool) bool { v = bytes.Clone(b); return true })
	return v, ok
}
func (e *shardEngine) has(k []byte) bool {
	return e.s.Peek(e.s.Hash(k), k, e.clock.Now(), func([]byte, bool, int64) bool { return true })
}
func (e *shardEngine) del(k []byte) bool { return e.s.Delete(e.s.Hash(k), k, e.clock.Now(), nil) }
func (e *shardEngine) touch(k []byte, d time.Duration) bool {
	now := e.clock.Now()
	return e.s.Update(e.s.Hash(k), k, now, func([]byte, bool, int64) (int64, bool) { return ttl.Stamp(now, d), true })
}
func (e *shardEngine) generation(k []byte) uint32 {
	_, gen := e.s.Read(e.s.Hash(k), k, e.clock.Now(), func([]byte, bool) bool { return true })
	return gen
}
func (e *shardEngine) fill(k, v []byte, d time.Duration, gen uint32) (bool, error) {
	now := e.clock.Now()
	return e.s.Fill(e.s.Hash(k), k, v, now, ttl.Stamp(now, d), false, gen)
}
func (e *shardEngine) clear()          { e.s.Clear() }
func (e *shardEngine) check() error    { return e.s.Check() }
func (e *shardEngine) bytesUsed() int  { return int(e.s.Stats().BytesUsed) }
func (e *shardEngine) capacity() int   { return e.size }
func (e *shardEngine) maxPayload() int { return e.s.MaxPayload() }

// maxKey: a shard has no limit of its own on keys, only on entries.
func (e *shardEngine) maxKey() int { return math.MaxInt }

type cacheEngine struct {
	c *ringcache.Cache
}

func (e cacheEngine) set(k, v []byte, d time.Duration) error { return e.c.SetWithTTL(k, v, d) }
func (e cacheEngine) get(k []byte) ([]byte, bool)            { return getOverKey(e.c, k) }
func (e cacheEngine) has(k []byte) bool                      { return e.c.Has(k) }
func (e cacheEngine) del(k []byte) bool                      { return e.c.Delete(k) }
func (e cacheEngine) touch(k []byte, d time.Duration) bool   { return e.c.Touch(k, d) }
func (e cacheEngine) clear()                                 { e.c.Clear() }
func (e cacheEngine) check() error                           { return e.c.Check() }
func (e cacheEngine) bytesUsed() int                         { return int(e.c.Stats().BytesUsed) }
func (e cacheEngine) capacity() int                          { return int(e.c.Stats().Capacity) }
func (e cacheEngine) maxPayload() int                        { return e.c.MaxEntrySize() }
func (e cacheEngine) maxKey() int                            { return e.c.MaxKeySize() }

// getOverKey reads k with the key in dst's spare capacity, as a caller
// reusing one buffer for both does: the read must neither change the key
// nor read another's.
func getOverKey(c *ringcache.Cache, k []byte) ([]byte, bool) {
	buf := append(make([]byte, 0, len(k)+64), k...)
	v, ok := c.Get(buf[:0], buf[:len(k)])
	if !bytes.Equal(buf[:len(k)], k) {
		panic(fmt.Sprintf("Get changed the key %q in its dst to %q", k, buf[:len(k)]))
	}
	return v, ok
}
