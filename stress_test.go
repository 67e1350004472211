package ringcache_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache"
)

// versionedValue is the value written for key at version: the version, then
// bytes drawn from a generator seeded by both, of a length that varies with
// the version. Any value read back can be regenerated from its first eight
// bytes and compared whole, so a torn, shifted or foreign value is caught.
func versionedValue(key []byte, version uint64) []byte {
	rng := rand.New(rand.NewPCG(version, uint64(len(key))<<32|uint64(key[len(key)-1])))
	v := binary.LittleEndian.AppendUint64(nil, version)
	v = append(v, key...)
	for n := int(version % 300); n > 0; n-- {
		v = append(v, byte(rng.Uint32()))
	}
	return v
}

func checkVersioned(key, got []byte) (uint64, error) {
	if len(got) < 8 {
		return 0, fmt.Errorf("key %q: value of %d bytes is too short", key, len(got))
	}
	version := binary.LittleEndian.Uint64(got)
	if want := versionedValue(key, version); !bytes.Equal(want, got) {
		return 0, fmt.Errorf("key %q: value is not what any Set wrote (version %d, %d bytes)", key, version, len(got))
	}
	return version, nil
}

func TestConcurrentMixedOperationsReturnOnlyWrittenValues(t *testing.T) {
	// A small cache with few shards: constant eviction, wraps and contention.
	c := newCache(t, ringcache.Config{Capacity: 512 << 10, Shards: 4})
	const (
		keys       = 2000
		goroutines = 8
	)
	ops := 20000
	if testing.Short() {
		ops = 2000
	}
	key := func(i int) []byte { return []byte(fmt.Sprintf("key-%05d", i)) }

	var wg sync.WaitGroup
	errs := make(chan error, goroutines+1)
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 99))
			dst := make([]byte, 0, 512)
			for i := range ops {
				k := key(rng.IntN(keys))
				var err error
				switch rng.IntN(12) {
				case 0, 1, 2:
					err = c.Set(k, versionedValue(k, uint64(g)<<32|uint64(i)))
				case 3:
					err = c.SetWithTTL(k, versionedValue(k, uint64(g)<<32|uint64(i)), time.Duration(1+rng.IntN(5))*time.Millisecond)
				case 4:
					c.Delete(k)
				case 5:
					c.Touch(k, time.Duration(rng.IntN(3))*time.Millisecond)
				case 6:
					c.GetFunc(k, func(v []byte) { _, err = checkVersioned(k, v) })
				case 7:
					// A loaded value is framed: its reads take the
					// framed path without the lock.
					version := uint64(g)<<32 | uint64(i) | 1<<62
					life := time.Duration(rng.IntN(3)) * time.Millisecond
					dst, err = c.GetOrLoad(context.Background(), dst[:0], k, func(context.Context, []byte) ([]byte, time.Duration, error) {
						return versionedValue(k, version), life, nil
					})
					if err == nil {
						_, err = checkVersioned(k, dst)
					}
				default:
					var ok bool
					if dst, ok = c.Get(dst[:0], k); ok {
						_, err = checkVersioned(k, dst)
					}
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.NoError(t, c.Check())
	st := c.Stats()
	require.Positive(t, st.Evictions, "the test must exercise eviction")
	require.Positive(t, st.Hits)
}

func TestReadersNeverSeeAKeyGoBackInTime(t *testing.T) {
	// One writer per key raises its version; readers on other goroutines
	// must see versions that never decrease: overwrites are visible at once
	// and never undone by a later read.
	c := newCache(t, ringcache.Config{Capacity: 1 << 20, Shards: 4})
	const writers = 4
	const versions = 3000
	var wg sync.WaitGroup
	// written[w] is set once writer w is done. The main ring's CLOCK may
	// evict a key's last version before its reader, descheduled while the
	// other keys' overwrites lap the ring, reads it; the reader then stops
	// at a miss instead of waiting for a version that is gone.
	var written [writers]atomic.Bool
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer written[w].Store(true)
			k := []byte(fmt.Sprint("monotonic-", w))
			for v := uint64(1); v <= versions; v++ {
				if err := c.Set(k, versionedValue(k, v)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	errs := make(chan error, writers)
	for r := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := []byte(fmt.Sprint("monotonic-", r))
			last := uint64(0)
			for last < versions {
				done := written[r].Load() // before the read: a miss after it is final
				got, ok := c.Get(nil, k)
				if !ok {
					if done {
						return
					}
					continue
				}
				v, err := checkVersioned(k, got)
				if err == nil && v < last {
					err = fmt.Errorf("key %q went from version %d back to %d", k, last, v)
				}
				if err != nil {
					errs <- err
					return
				}
				last = v
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}
