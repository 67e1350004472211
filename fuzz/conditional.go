package fuzz

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/ringcache/ringcache"
	"github.com/ringcache/ringcache/ttl"
)

// extended is an engine with the cache's conditional writes and
// iteration, which the shard engine does not have.
type extended interface {
	setIfAbsent(key, value []byte, d time.Duration) (bool, error)
	setIfNewer(key, value []byte, version uint64, d time.Duration) (bool, error)
	version(key []byte) (uint64, bool)
	all() (map[string][]byte, error)
	maxKey() int
}

// runExtended runs one operation of an extended engine, b picking which,
// against the model, and returns the first broken promise. The model is
// a superset of what the engine holds (it learns of evictions from
// reads), so a refused conditional write must leave an entry the model
// knows, and a stored one must replace it.
func runExtended(x extended, b byte, key []byte, in *input, step int, model map[string]modelEntry, clock *ttl.Clock) error {
	live := func() (modelEntry, bool) {
		m, ok := model[string(key)]
		return m, ok && !ttl.Expired(m.expiry, clock.Now())
	}
	d := time.Duration(in.byte()) * time.Millisecond
	value := valueFor(step, int(in.byte()))
	switch b % 3 {
	case 0:
		stored, err := x.setIfAbsent(key, value, d)
		_, present := live()
		switch {
		case len(key) > x.maxKey():
			if !errors.Is(err, ringcache.ErrKeyTooLarge) {
				return fmt.Errorf("SetIfAbsent of a %d-byte key: got %v, want ErrKeyTooLarge", len(key), err)
			}
		case errors.Is(err, ringcache.ErrEntryTooLarge):
		case err != nil:
			return fmt.Errorf("SetIfAbsent: %w", err)
		case !stored && !present:
			return fmt.Errorf("SetIfAbsent %q refused for a key the model says is absent", key)
		case stored:
			model[string(key)] = modelEntry{value: value, expiry: ttl.Stamp(clock.Now(), d)}
		}
	case 1:
		version := uint64(in.byte())
		stored, err := x.setIfNewer(key, value, version, d)
		m, present := live()
		switch {
		case len(key) > x.maxKey():
			if !errors.Is(err, ringcache.ErrKeyTooLarge) {
				return fmt.Errorf("SetIfNewer of a %d-byte key: got %v, want ErrKeyTooLarge", len(key), err)
			}
		case errors.Is(err, ringcache.ErrEntryTooLarge):
		case err != nil:
			return fmt.Errorf("SetIfNewer: %w", err)
		case !stored && (!present || !m.versioned || m.version < version):
			return fmt.Errorf("SetIfNewer %q version %d refused, the model holding %+v (present %v)", key, version, m, present)
		case stored && present && m.versioned && m.version >= version:
			return fmt.Errorf("SetIfNewer %q version %d stored over version %d", key, version, m.version)
		case stored:
			model[string(key)] = modelEntry{value: value, expiry: ttl.Stamp(clock.Now(), d), versioned: true, version: version}
		}
		if v, ok := x.version(key); ok {
			if m, present := live(); !present || !m.versioned || m.version != v {
				return fmt.Errorf("Version %q is %d, the model holding %+v (present %v)", key, v, m, present)
			}
		}
	case 2:
		got, err := x.all()
		if err != nil {
			return err
		}
		for k, v := range got {
			m, ok := model[k]
			if !ok || ttl.Expired(m.expiry, clock.Now()) || !bytes.Equal(m.value, v) {
				return fmt.Errorf("All yielded %q (%d bytes), which the model does not hold so", k, len(v))
			}
		}
	}
	return nil
}

func (e cacheEngine) setIfAbsent(k, v []byte, d time.Duration) (bool, error) {
	return e.c.SetIfAbsent(k, v, d)
}

func (e cacheEngine) setIfNewer(k, v []byte, version uint64, d time.Duration) (bool, error) {
	return e.c.SetIfNewer(k, v, version, d)
}

func (e cacheEngine) version(k []byte) (uint64, bool) { return e.c.Version(k) }

func (e cacheEngine) all() (map[string][]byte, error) {
	out := map[string][]byte{}
	for k, v := range e.c.All() {
		if _, dup := out[string(k)]; dup {
			return nil, fmt.Errorf("All yielded %q twice", k)
		}
		out[string(k)] = bytes.Clone(v)
	}
	return out, nil
}
