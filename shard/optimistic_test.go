package shard

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache/arena"
	"github.com/ringcache/ringcache/evict"
)

// mappedShard returns a shard over memory outside the Go heap, as the
// cache gives Get: reads racing writes there are by design, and the race
// detector does not watch it.
func mappedShard(t *testing.T, size int, o Options) *Shard {
	t.Helper()
	region, err := arena.NewRegion(size)
	require.NoError(t, err)
	if !region.Releasable() {
		t.Skip("Get reads without the lock only over a releasable mapping (Linux)")
	}
	t.Cleanup(func() { _ = region.Free() })
	s := &Shard{}
	require.NoError(t, s.Init(region.Bytes(), o))
	return s
}

// holding returns an LRU-K shard Get reads without the lock, holding key
// with value, and key's hash.
func holding(t *testing.T, key string, value []byte) (*Shard, []byte, uint64) {
	t.Helper()
	s := mappedShard(t, 16<<10, Options{AvgPayload: 64, Policy: evict.LRUK, K: 2})
	k := []byte(key)
	h := Hash(k)
	require.NoError(t, s.Set(h, k, value, 1, 0, false))
	return s, k, h
}

// checksummed returns a value of n bytes (at least 8) for key whose first
// 8 bytes are a hash of the key and the rest: no mix of two values, and
// no value of another key, passes checksumOK.
func checksummed(key []byte, n int, r *rand.Rand) []byte {
	v := make([]byte, n)
	for i := 8; i < n; i++ {
		v[i] = byte(r.Uint32())
	}
	binary.LittleEndian.PutUint64(v, sumOf(key, v[8:]))
	return v
}

func sumOf(key, rest []byte) uint64 {
	var d xxhash.Digest
	d.Reset()
	_, _ = d.Write(key)
	_, _ = d.Write(rest)
	return d.Sum64()
}

func checksumOK(key, v []byte) bool {
	return len(v) >= 8 && binary.LittleEndian.Uint64(v) == sumOf(key, v[8:])
}

// TestGetRacingWritersReturnsOnlyWholeValues runs readers that use Get
// against writers that overwrite (in place and not), evict, expire,
// delete, touch and clear, with sizes that swing between small and large
// so the index is replanned, and a tuner period short enough that the
// boundary between the rings keeps moving. Every value a reader gets
// must be a whole value of its key, and the invariants must hold after.
func TestGetRacingWritersReturnsOnlyWholeValues(t *testing.T) {
	for _, policy := range []evict.Kind{evict.LRUK, evict.FIFO} {
		t.Run(policy.String(), func(t *testing.T) {
			s := mappedShard(t, 64<<10, Options{AvgPayload: 96, Policy: policy, K: 2, TunePeriod: 64})
			const keys = 512
			key := func(i int) []byte { return fmt.Appendf(nil, "key-%d", i) }
			var stop atomic.Bool
			var served, retried, locked, missed atomic.Int64
			var wg sync.WaitGroup
			var clock atomic.Int64
			clock.Store(1)
			for w := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for n := 0; !stop.Load(); n++ {
						k := key(r.IntN(keys))
						h, now := Hash(k), clock.Add(1)
						switch op := r.IntN(100); {
						case op < 30:
							// Same-size writes of a few keys overwrite
							// in place, under readers' copies.
							k = key(r.IntN(8))
							require.NoError(t, s.Set(Hash(k), k, checksummed(k, 1000, r), now, 0, false))
						case op < 70:
							// Phases of small and large values make the
							// shard replan its index both ways.
							size := 8 + r.IntN(24)
							if n/4000%2 == 1 {
								size = 200 + r.IntN(1800)
							}
							expiry := int64(0)
							if r.IntN(4) == 0 {
								expiry = now + int64(r.IntN(50))
							}
							require.NoError(t, s.Set(h, k, checksummed(k, size, r), now, expiry, false))
						case op < 85:
							s.Delete(h, k, now, nil)
						case op < 99:
							s.Update(h, k, now, func(v []byte, _ bool, e int64) (int64, bool) { return e + 10, true })
						default:
							s.Clear()
						}
					}
				}()
			}
			for rd := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					r := rand.New(rand.NewPCG(uint64(rd), 2))
					dst := make([]byte, 0, 4096)
					for !stop.Load() {
						k := key(r.IntN(keys))
						if r.IntN(2) == 0 {
							k = key(r.IntN(8))
						}
						v, o, _ := s.Get(dst[:0], Hash(k), k, clock.Load(), &head)
						switch o {
						case Hit:
							served.Add(1)
							if !checksumOK(k, v) {
								t.Errorf("Get of %q returned %d bytes that are no whole value of it", k, len(v))
								stop.Store(true)
							}
						case Miss:
							missed.Add(1)
						case Locked:
							locked.Add(1)
						}
					}
				}()
			}
			// Run until every event the test is about has happened at
			// least once (reads served, a retried one, replans both ways), however
			// slowly a loaded machine gets there.
			driveUntil(t, func() bool {
				st := s.Stats()
				return served.Load() > 300_000 && st.ReadRetries > 0 && st.Replans >= 2
			})
			stop.Store(true)
			wg.Wait()
			require.NoError(t, s.Check())
			st := s.Stats()
			retried.Store(int64(st.ReadRetries))
			t.Logf("served %d, missed %d, locked %d, retried %d; replans %d, evictions %d, expirations %d",
				served.Load(), missed.Load(), locked.Load(), retried.Load(), st.Replans, st.Evictions, st.Expirations)
			require.Positive(t, served.Load(), "no read was served without the lock")
			require.Positive(t, st.ReadRetries, "no read overlapped a write: the test did not race")
			require.Positive(t, st.Replans, "the index was never replanned")
			require.Positive(t, st.Evictions)
		})
	}
}

// TestGetSeesWhatTheLockedReadSees checks Get against Read on one
// goroutine, through writes, expiry, deletes and a close.
func TestGetSeesWhatTheLockedReadSees(t *testing.T) {
	s := mappedShard(t, 16<<10, Options{AvgPayload: 64, Policy: evict.LRUK, K: 2})
	k := []byte("k")
	h := Hash(k)
	_, o, _ := s.Get(nil, h, k, 1, &head)
	require.Equal(t, Miss, o)
	require.Zero(t, s.Stats().Misses, "a miss Get finds is the caller's to count")
	s.Missed(h)
	require.Equal(t, uint64(1), s.Stats().Misses)

	require.NoError(t, s.Set(h, k, []byte("value"), 1, 10, false))
	v, o, _ := s.Get([]byte("x"), h, k, 5, &head)
	require.Equal(t, Hit, o)
	require.Equal(t, "xvalue", string(v), "Get appends to dst")

	_, o, _ = s.Get(nil, h, k, 10, &head)
	require.Equal(t, Locked, o, "an expired entry is left to the locked read, which reclaims it")
	_, ok := get(s, "k", 10)
	require.False(t, ok)

	require.NoError(t, s.Set(h, k, []byte("framed"), 10, 0, true))
	before := s.Reads(h)
	v, o, seen := s.Get([]byte("x"), h, k, 11, &head)
	require.Equal(t, Framed, o, "a framed value is the caller's to judge")
	require.Equal(t, "xframed", string(v))
	require.Equal(t, before, s.Reads(h), "an unjudged framed read is not told to the policy")
	s.Served(seen)
	require.Equal(t, before+1, s.Reads(h), "Served tells it")

	require.NoError(t, s.Set(h, k, []byte("v2"), 11, 0, false))
	require.True(t, s.Delete(h, k, 12, nil))
	_, o, _ = s.Get(nil, h, k, 12, &head)
	require.Equal(t, Miss, o)

	require.NoError(t, s.Set(h, k, []byte("v3"), 12, 0, false))
	s.Close()
	_, o, _ = s.Get(nil, h, k, 13, &head)
	require.Equal(t, Locked, o, "a closed shard sends Get to the lock, where it misses")
	require.NoError(t, s.Check())
}

// TestGetTellsThePolicy checks that reads Get serves reach the policy:
// the CLOCK count in the header and the sketch, as Read's do.
func TestGetTellsThePolicy(t *testing.T) {
	s, k, h := holding(t, "hot", []byte("v"))
	before := s.Reads(h)
	for range 3 {
		_, o, _ := s.Get(nil, h, k, 2, &head)
		require.Equal(t, Hit, o)
	}
	require.Equal(t, before+3, s.Reads(h), "each read Get served counts in the sketch")
	slot, g := s.find(uint32(h), k)
	require.GreaterOrEqual(t, slot, 0)
	require.Equal(t, evict.MetaBits, s.bytes(g, HeaderSize)[offFlags]&evict.MetaBits, "three reads fill the CLOCK count")
	_, o, _ := s.Get(nil, h, k, 2, &head)
	require.Equal(t, Hit, o)
	require.Equal(t, before+3, s.Reads(h), "a read of an entry whose count is full writes nothing")
}

// TestNotedReadsReachThePolicy holds the lock while Get serves, so the
// reads go to the notes, and checks that the next writer hands them on
// and that reads past the notes' room are counted as dropped.
func TestNotedReadsReachThePolicy(t *testing.T) {
	s, k, h := holding(t, "k", []byte("v"))
	before := s.Reads(h)
	s.mu.Lock()
	for range 2 {
		_, o, _ := s.Get(nil, h, k, 2, &head)
		require.Equal(t, Hit, o)
	}
	s.mu.Unlock()
	require.Equal(t, before, s.Reads(h), "noted reads wait for a drain")
	require.NoError(t, s.Set(h, []byte("other"), []byte("v"), 2, 0, false))
	require.Equal(t, before+2, s.Reads(h), "a writer hands the notes to the policy")

	s.mu.Lock()
	for range noteSlots + 5 {
		// The entry's count is full after three reads: another key.
		s.notes.n.Add(1)
	}
	s.mu.Unlock()
	require.NoError(t, s.Set(h, k, []byte("w"), 3, 0, false))
	require.Equal(t, uint64(5), s.Stats().DroppedReads)
}

// TestGetDoesNotAllocate pins the hot path: a hit into a dst with room.
func TestGetDoesNotAllocate(t *testing.T) {
	s, k, h := holding(t, "k", make([]byte, 100))
	dst := make([]byte, 0, 128)
	require.Zero(t, testing.AllocsPerRun(100, func() { dst, _, _ = s.Get(dst[:0], h, k, 2, &head) }))
}

// readValue is the header codec's fast path: it must agree with
// readHeader on every field it decodes.
func TestReadValueAgreesWithReadHeader(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	b := make([]byte, HeaderSize)
	for range 10_000 {
		want := entryHeader{
			keyLen: r.IntN(MaxKeyLen + 1), valLen: r.IntN(MaxValueLen + 1), slack: r.IntN(maxSlack + 1),
			expiry: r.Int64N(1 << 40), flags: uint8(r.Uint32()),
		}
		writeHeader(b, want)
		valLen, expiry, flags := readValue(b)
		require.Equal(t, want, readHeader(b))
		require.Equal(t, [3]int64{int64(want.valLen), want.expiry, int64(want.flags)}, [3]int64{int64(valLen), expiry, int64(flags)})
	}
}

// A framed value that Options.CopiesFramed refuses goes to the lock
// before a byte of it is copied.
func TestGetLeavesRefusedFramedValuesToTheLock(t *testing.T) {
	s := mappedShard(t, 16<<10, Options{AvgPayload: 64, Policy: evict.LRUK, K: 2,
		CopiesFramed: func(head byte) bool { return head == 'c' }})
	for _, v := range []string{"copied", "refused"} {
		k := []byte(v)
		require.NoError(t, s.Set(Hash(k), k, []byte(v), 1, 0, true))
	}
	dst := make([]byte, 1, 64)
	out, o, _ := s.Get(dst, Hash([]byte("copied")), []byte("copied"), 2, &head)
	require.Equal(t, Framed, o)
	require.Equal(t, "\x00copied", string(out))

	dst = append(make([]byte, 1, 64), make([]byte, 63)...)[:1]
	_, o, _ = s.Get(dst, Hash([]byte("refused")), []byte("refused"), 2, &head)
	require.Equal(t, Locked, o)
	require.Equal(t, make([]byte, 63), dst[1:64], "a refused value is not copied")
}

// driveUntil waits while the test's goroutines work until done reports
// true, and fails the test if it has not within a deadline generous
// enough for a slow, loaded machine under the race detector.
func driveUntil(t *testing.T, done func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for !done() {
		if time.Now().After(deadline) {
			t.Fatal("the events the test needs did not happen within two minutes")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// head takes the frames Get hands back in tests that read no framed
// value concurrently.
var head [MaxFrameHead]byte

// With Options.FrameHead, Get hands a framed value's head back apart from
// dst, which takes the rest without room for the head.
func TestGetHandsAFramedValuesHeadBack(t *testing.T) {
	s := mappedShard(t, 16<<10, Options{AvgPayload: 64, Policy: evict.LRUK, K: 2, FrameHead: 3})
	k := []byte("k")
	require.NoError(t, s.Set(Hash(k), k, []byte("HDRpayload"), 1, 0, true))
	var got [MaxFrameHead]byte
	dst := make([]byte, 0, len("payload"))
	out, o, _ := s.Get(dst, Hash(k), k, 2, &got)
	require.Equal(t, Framed, o)
	require.Equal(t, "payload", string(out))
	require.Equal(t, unsafe.SliceData(dst), unsafe.SliceData(out), "dst of the payload's size is not grown")
	require.Equal(t, "HDR", string(got[:3]))
	var bad Shard
	require.Error(t, bad.Init(make([]byte, MinSize), Options{FrameHead: MaxFrameHead + 1}))
}
