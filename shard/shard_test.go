package shard

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/keyhash"
	"github.com/ringcache/ringcache/ttl"
)

// Hash is the hash of the shards these tests make: their Options leave
// the Hasher zero.
func Hash(key []byte) uint64 {
	var h keyhash.Hasher
	return h.Sum(key)
}

// newShard returns a FIFO shard: these tests pin the storage engine; the
// LRU-K policy has tests of its own.
func newShard(t *testing.T, size, avgPayload int) *Shard {
	t.Helper()
	s := &Shard{}
	require.NoError(t, s.Init(make([]byte, size), Options{AvgPayload: avgPayload, Policy: evict.FIFO}))
	return s
}

// ringUsed sums the records of ring r, from head to tail.
func ringUsed(s *Shard, r int) int {
	used := 0
	ring := &s.rings[r]
	_ = ring.Walk(func(off int) int { return recordSize(ring.Bytes(off, HeaderSize)) }, func(_, n int) { used += n })
	return used
}

// generation is the key's write generation as a lookup reports it.
func generation(s *Shard, key string) uint32 {
	_, gen := s.Read(Hash([]byte(key)), []byte(key), 1, func([]byte, bool) bool { return true })
	return gen
}

func get(s *Shard, key string, now int64) (string, bool) {
	var v string
	ok, _ := s.Read(Hash([]byte(key)), []byte(key), now, func(b []byte, _ bool) bool { v = string(b); return true })
	return v, ok
}

func has(s *Shard, key string, now int64) bool {
	return s.Peek(Hash([]byte(key)), []byte(key), now, func([]byte, bool, int64) bool { return true })
}

func touch(s *Shard, key string, now, expiry int64) bool {
	return s.Update(Hash([]byte(key)), []byte(key), now, func([]byte, bool, int64) (int64, bool) { return expiry, true })
}

func setAt(t *testing.T, s *Shard, key, value string, now, expiry int64) {
	t.Helper()
	require.NoError(t, s.Set(Hash([]byte(key)), []byte(key), []byte(value), now, expiry, false))
	require.NoError(t, s.Check())
}

func set(t *testing.T, s *Shard, key, value string) {
	t.Helper()
	setAt(t, s, key, value, 1, ttl.Never)
}

// collidingKeys returns two distinct keys whose hashes share the 32 bits the
// index keeps, found by brute force (a birthday search over ~2^17 keys).
func collidingKeys(t *testing.T) (string, string) {
	seen := map[uint32]string{}
	for i := 0; ; i++ {
		k := fmt.Sprint("k", i)
		tag := uint32(Hash([]byte(k)))
		if other, ok := seen[tag]; ok {
			return other, k
		}
		seen[tag] = k
		require.Less(t, i, 1<<22, "no collision found")
	}
}

func TestHeaderRoundTrip(t *testing.T) {
	want := entryHeader{keyLen: MaxKeyLen, valLen: MaxValueLen, slack: maxSlack, expiry: ttl.MaxStamp, flags: 0xff}
	b := make([]byte, HeaderSize)
	writeHeader(b, want)
	require.Equal(t, want, readHeader(b))
	require.Equal(t, want.size(), recordSize(b))
}

func TestTagCollisionNeverReturnsAnotherKeysValue(t *testing.T) {
	a, b := collidingKeys(t)
	s := newShard(t, 64<<10, 64)
	set(t, s, a, "value of a")
	v, ok := get(s, b, 1)
	require.False(t, ok, "a key sharing a's tag must miss, got %q", v)
	set(t, s, b, "value of b")
	v, _ = get(s, a, 1)
	require.Equal(t, "value of a", v)
	v, _ = get(s, b, 1)
	require.Equal(t, "value of b", v)

	require.True(t, s.Delete(Hash([]byte(a)), []byte(a), 1, nil))
	require.NoError(t, s.Check())
	_, ok = get(s, a, 1)
	require.False(t, ok)
	v, ok = get(s, b, 1)
	require.True(t, ok, "deleting a must not delete b")
	require.Equal(t, "value of b", v)
}

func TestOverwrite(t *testing.T) {
	s := newShard(t, 64<<10, 64)
	set(t, s, "k", strings.Repeat("a", 100))
	used := ringUsed(s, mainRing)

	for _, tc := range []struct {
		name    string
		value   string
		inPlace bool
	}{
		{"shorter fits in place", strings.Repeat("b", 50), true},
		{"back to the original length fits the same room", strings.Repeat("c", 100), true},
		{"empty value fits", "", true},
		{"one byte over the room appends", strings.Repeat("d", 101), false},
		{"growing to 400 appends", strings.Repeat("f", 400), false},
		{"more than 255 bytes of slack appends", "e", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ringUsed(s, mainRing)
			set(t, s, "k", tc.value)
			v, ok := get(s, "k", 1)
			require.True(t, ok)
			require.Equal(t, tc.value, v)
			if tc.inPlace {
				require.Equal(t, before, ringUsed(s, mainRing))
			} else {
				require.Greater(t, ringUsed(s, mainRing), before)
			}
			require.Equal(t, 1, s.Len())
		})
	}
	require.Greater(t, ringUsed(s, mainRing), used)
	st := s.Stats()
	require.Equal(t, uint64(7), st.Sets)
	require.Equal(t, uint64(6), st.Overwrites)
}

func TestLimits(t *testing.T) {
	s := newShard(t, 64<<10, 64)
	max := s.MaxPayload()
	require.Equal(t, s.rings[mainRing].Size()/4-HeaderSize, max)
	require.ErrorIs(t, s.Set(0, make([]byte, MaxKeyLen+1), nil, 1, 0, false), ErrKeyTooLarge)
	require.ErrorIs(t, s.Set(0, []byte("k"), make([]byte, max), 1, 0, false), ErrEntryTooLarge)
	require.NoError(t, s.Set(Hash([]byte("k")), []byte("k"), make([]byte, max-1), 1, 0, false))
	require.NoError(t, s.Check())
	require.Equal(t, uint64(1), s.Stats().Sets, "failed sets are not counted")

	require.ErrorIs(t, (&Shard{}).Init(make([]byte, MinSize-1), Options{AvgPayload: 64}), ErrTooSmall)
}

func TestExpiredEntriesAreNeverReturned(t *testing.T) {
	s := newShard(t, 64<<10, 64)
	setAt(t, s, "k", "v", 1, 11)
	v, ok := get(s, "k", 10)
	require.True(t, ok)
	require.Equal(t, "v", v)
	require.False(t, has(s, "k", 11), "an entry is expired at its stamp")
	_, ok = get(s, "k", 11)
	require.False(t, ok)
	require.False(t, touch(s, "k", 11, 100), "touch must not revive an expired entry")
	require.Equal(t, 0, s.Len(), "the expired entry is reclaimed when found")
	require.Equal(t, uint64(1), s.Stats().Expirations)
	require.NoError(t, s.Check())
}

func TestSecondChanceSparesReadEntries(t *testing.T) {
	s := newShard(t, 16<<10, 100)
	set(t, s, "hot", "hot value")
	for i := range 2000 {
		set(t, s, fmt.Sprint("cold-", i), strings.Repeat("x", 100))
		_, ok := get(s, "hot", 1)
		require.True(t, ok, "hot key evicted after %d cold writes", i)
	}
	st := s.Stats()
	require.Positive(t, st.Evictions)
	_, ok := get(s, "cold-0", 1)
	require.False(t, ok, "the oldest unread entry must have been evicted")
}

func TestIndexFullEvictsWhileRingHasRoom(t *testing.T) {
	// Sized for 4 KiB entries: few slots, so 1-byte entries fill the index
	// long before the ring; the index may not grow here.
	s := newShard(t, 64<<10, 4096)
	s.minRing = len(s.mem)
	for i := range 500 {
		set(t, s, fmt.Sprint(i), "v")
	}
	require.Equal(t, s.maxLive, s.Len())
	require.Less(t, ringUsed(s, mainRing), s.rings[mainRing].Size()/2)
	v, ok := get(s, "499", 1)
	require.True(t, ok, "the newest entry must survive")
	require.Equal(t, "v", v)
}

func TestClearAndClose(t *testing.T) {
	s := newShard(t, 64<<10, 64)
	set(t, s, "a", "1")
	s.Clear()
	require.NoError(t, s.Check())
	require.Equal(t, 0, s.Len())
	_, ok := get(s, "a", 1)
	require.False(t, ok)
	set(t, s, "b", "2")

	s.Close()
	require.NoError(t, s.Check())
	_, ok = get(s, "b", 1)
	require.False(t, ok)
	require.ErrorIs(t, s.Set(0, []byte("c"), nil, 1, 0, false), ErrClosed)
	require.False(t, s.Delete(Hash([]byte("b")), []byte("b"), 1, nil))
	ok, _ = s.Read(Hash([]byte("b")), []byte("b"), 1, func([]byte, bool) bool { t.Fatal("called after close"); return true })
	require.False(t, ok)
	s.Clear()
}

func TestLayoutMeetsOverheadTarget(t *testing.T) {
	// 16-byte keys, 128-byte values, default hint: header plus the index
	// bytes per entry of full rings must stay within 24, and LRU-K's
	// sketch, history and tuner within a few bytes more.
	const size = 4 << 20
	for _, kind := range []evict.Kind{evict.FIFO, evict.LRUK} {
		l := PlanLayout(size, Options{AvgPayload: 128, Policy: kind})
		entries := (l.Probation + l.Main) / (HeaderSize + 144)
		perEntry := float64(HeaderSize) + float64(l.Slots*slotSize)/float64(entries)
		policy := float64((l.SketchWords+l.HistoryWords+l.TunerWords)*8) / float64(entries)
		t.Logf("%v: header+index %.2f bytes per entry, policy %.2f", kind, perEntry, policy)
		require.LessOrEqual(t, perEntry, 24.0)
		require.LessOrEqual(t, policy, 7.5)
		require.LessOrEqual(t, entries, l.Slots*loadNum/loadDen, "the index must not be the tighter limit")
		require.Equal(t, size, 8*(l.Slots+l.SketchWords+l.HistoryWords+l.TunerWords)+l.Probation+l.Main, "every byte is accounted for")
	}
}

func TestProbationResizesKeepTheInvariants(t *testing.T) {
	s := newLRUKShard(t, 16<<10)
	rng := rand.New(rand.NewPCG(3, 4))
	grew, shrank := false, false
	for i := range 60_000 {
		if i%5000 == 0 {
			// Swing the target from end to end of its bounds.
			if lo, hi := s.probBounds(); s.targetProb == hi {
				s.targetProb = lo
			} else {
				s.targetProb = hi
			}
		}
		before := s.split()
		k := fmt.Sprint("k", rng.IntN(800))
		switch rng.IntN(4) {
		case 0, 1:
			require.NoError(t, s.Set(Hash([]byte(k)), []byte(k), []byte(strings.Repeat("v", rng.IntN(120))), 1, ttl.Never, false))
		case 2:
			get(s, k, 1)
		default:
			s.Delete(Hash([]byte(k)), []byte(k), 1, nil)
		}
		grew = grew || s.split() > before
		shrank = shrank || s.split() < before
		if i%50 == 0 {
			require.NoError(t, s.Check(), "after op %d", i)
		}
	}
	require.NoError(t, s.Check())
	require.True(t, grew, "probation never grew")
	require.True(t, shrank, "probation never shrank")
}

// Shrinking probation settles its oldest entries, and settling promotes
// some into main, which can wrap main's ring: moving the boundary then
// corrupted main (a later eviction found no index slot for its head).
// Targets jump at random here, in shards bound by the index (AvgPayload
// 256) and by ring bytes (16), where main is nearly always wrapped and the
// boundary must move by adoption and fillers.
func TestProbationShrinkAfterSettlingWrapsMain(t *testing.T) {
	for _, avg := range []int{16, 64, 256} {
		s := &Shard{}
		require.NoError(t, s.Init(make([]byte, 32<<10), Options{AvgPayload: avg, Policy: evict.LRUK, K: 2}))
		rng := rand.New(rand.NewPCG(uint64(avg), 9))
		grew, shrank := 0, 0
		for i := range 100_000 {
			if i%2000 == 0 {
				// Within the bounds of the moment: a replan changes the
				// ring bytes they are shares of.
				lo, hi := s.probBounds()
				s.targetProb = lo + rng.IntN(hi-lo+1)
			}
			before := s.split()
			k := fmt.Sprint("k", rng.IntN(1500))
			if rng.IntN(3) == 0 {
				require.NoError(t, s.Set(Hash([]byte(k)), []byte(k), []byte(strings.Repeat("v", rng.IntN(2*avg))), 1, ttl.Never, false))
			} else if _, ok := get(s, k, 1); !ok {
				require.NoError(t, s.Set(Hash([]byte(k)), []byte(k), []byte(strings.Repeat("v", rng.IntN(2*avg))), 1, ttl.Never, false))
			}
			switch {
			case s.split() < before:
				shrank++
			case s.split() > before:
				grew++
			}
			if i%25 == 0 {
				require.NoError(t, s.Check(), "AvgPayload %d, after op %d", avg, i)
			}
		}
		require.NoError(t, s.Check())
		t.Logf("AvgPayload %d: grew %d times, shrank %d", avg, grew, shrank)
		require.Greater(t, grew, 20, "AvgPayload %d: probation must grow", avg)
		require.Greater(t, shrank, 20, "AvgPayload %d: probation must shrink", avg)
	}
}

// Growing probation into a wrapped main must not cost main's hot entries:
// evicting the entries in the way (an earlier attempt) lost a key read
// after every write within 17,000 writes. Adoption moves them to
// probation, whose settling sends them back.
func TestProbationGrowthKeepsHotEntries(t *testing.T) {
	s := &Shard{}
	require.NoError(t, s.Init(make([]byte, 32<<10), Options{AvgPayload: 24, Policy: evict.LRUK, K: 2}))
	// Keep the index as planned (the entries are larger than the plan, so
	// the index bounds the shard and main keeps room): this test is about
	// the rings.
	s.minRing = len(s.mem)
	lo, hi := s.probBounds()
	hot := []string{"hot-a", "hot-b", "hot-c"}
	for _, k := range hot {
		set(t, s, k, "value")
	}
	grew := 0
	for i := range 100_000 {
		if i%3000 == 0 { // swing the target end to end
			s.targetProb = hi
			if i%6000 == 0 {
				s.targetProb = lo
			}
		}
		before := s.split()
		k := fmt.Sprint("cold-", i)
		require.NoError(t, s.Set(Hash([]byte(k)), []byte(k), []byte("0123456789"), 1, ttl.Never, false))
		if s.split() > before {
			grew++
		}
		for _, h := range hot {
			v, ok := get(s, h, 1)
			require.True(t, ok, "%s lost after %d writes", h, i)
			require.Equal(t, "value", v)
		}
	}
	require.NoError(t, s.Check())
	require.Greater(t, grew, 20, "probation must have grown for the test to mean anything")
}

func newLRUKShard(t *testing.T, size int) *Shard {
	t.Helper()
	s := &Shard{}
	require.NoError(t, s.Init(make([]byte, size), Options{AvgPayload: 64, Policy: evict.LRUK, K: 2}))
	return s
}

func TestLRUKScanDoesNotFlushTheHotSet(t *testing.T) {
	s := newLRUKShard(t, 64<<10)
	value := strings.Repeat("v", 50)
	hot := make([]string, 60)
	for i := range hot {
		hot[i] = fmt.Sprint("hot-", i)
		set(t, s, hot[i], value)
	}
	for range 3 {
		for _, k := range hot {
			_, ok := get(s, k, 1)
			require.True(t, ok)
		}
	}
	// A one-pass scan of many cold keys, read once each (a miss) as a
	// cache-aside caller would, then written, while the hot set is still
	// read: each hot key once per 1,000 scanned keys, less often than
	// main turns over (about 700 entries), so the CLOCK alone loses them
	// (under FIFO none stays) and the history must tell them apart.
	// (A hot set nobody reads while main turns over many times has only
	// its history to speak for it, as in a W-TinyLFU.)
	for i := range 20_000 {
		k := fmt.Sprint("scan-", i)
		get(s, k, 1)
		require.NoError(t, s.Set(Hash([]byte(k)), []byte(k), []byte(value), 1, ttl.Never, false))
		if i%1000 == 0 {
			for _, k := range hot {
				get(s, k, 1)
			}
			require.NoError(t, s.Check())
		}
	}
	require.NoError(t, s.Check())
	for _, k := range hot {
		require.True(t, has(s, k, 1), "hot key %s flushed by the scan", k)
	}
	st := s.Stats()
	require.Positive(t, st.Rejections)
	require.Positive(t, st.Promotions)
}

func TestLRUKStoresEveryWriteWhileThereIsRoom(t *testing.T) {
	s := newLRUKShard(t, 64<<10)
	n := 0
	for s.Stats().BytesUsed < 40<<10 {
		set(t, s, fmt.Sprint("k", n), strings.Repeat("v", 40))
		n++
	}
	for i := range n {
		_, ok := get(s, fmt.Sprint("k", i), 1)
		require.True(t, ok, "key %d of %d dropped while the shard had room", i, n)
	}
	require.Zero(t, s.Stats().Evictions)
}

func TestLRUKSetThenGetHitsEvenWhenFull(t *testing.T) {
	s := newLRUKShard(t, 16<<10)
	for i := range 5000 {
		k := fmt.Sprint("key-", i)
		set(t, s, k, "some value")
		v, ok := get(s, k, 1)
		require.True(t, ok, "write %d not readable at once", i)
		require.Equal(t, "some value", v)
	}
	require.Positive(t, s.Stats().Evictions)
}

func TestLRUKLargeEntriesBypassProbation(t *testing.T) {
	s := newLRUKShard(t, 64<<10)
	big := strings.Repeat("b", s.rings[probation].Size())
	set(t, s, "big", big)
	v, ok := get(s, "big", 1)
	require.True(t, ok)
	require.Equal(t, big, v)
	require.Zero(t, ringUsed(s, probation))
}

// Shrinking a wrapped probation while main was wrapped settled the
// records in the bytes given up, rejecting most, and main could use the
// bytes only a lap later, behind a filler: a 300-entry shard on the multi2
// trace held 15 to 20 fewer entries for thousands of requests after each
// shrink. Now main takes the records in place, and the shard stays full.
func TestProbationShrinkKeepsTheShardFull(t *testing.T) {
	const payload = 28 // 8-byte keys, 20-byte values
	s := &Shard{}
	// The tuner stays out of it (a period of a billion reads): the
	// test moves the target itself.
	require.NoError(t, s.Init(make([]byte, 32<<10), Options{AvgPayload: payload, Policy: evict.LRUK, K: 2, TunePeriod: 1 << 30}))
	value := strings.Repeat("v", payload-8)
	rng := rand.New(rand.NewPCG(5, 6))
	// Skewed reads over three times the shard's entries, a write on each
	// miss: entries reach main and leave it, so both rings wrap.
	request := func() {
		k := fmt.Sprintf("k%07d", int(math.Pow(rng.Float64(), 3)*float64(3*s.maxLive)))
		if _, ok := get(s, k, 1); !ok {
			require.NoError(t, s.Set(Hash([]byte(k)), []byte(k), []byte(value), 1, ttl.Never, false))
		}
	}
	_, hi := s.probBounds()
	s.targetProb = hi
	for range 50_000 {
		request()
	}
	require.Equal(t, hi, s.split(), "probation must have grown to its target first")
	m, p := &s.rings[mainRing], &s.rings[probation]
	for m.CanGrowStart() || p.CanGrowStart() {
		request()
	}
	full := s.Len()
	promoted := s.Stats().Promotions
	s.targetProb, _ = s.probBounds()
	least := full
	for i := 0; i < 20_000 && s.split() > s.targetProb; i++ {
		request()
		least = min(least, s.Len())
		if i%10 == 0 {
			require.NoError(t, s.Check())
		}
	}
	require.Less(t, s.split(), hi/2, "probation must have shrunk")
	require.Greater(t, s.Stats().Promotions, promoted, "the handed-over entries count as promotions")
	// Settling what probation gives up would drop 3% to 7% of the shard;
	// handing it over loses about 1% at most, to the evictions that
	// writes cause at any moment.
	require.GreaterOrEqual(t, least, full*98/100, "the shard emptied while probation shrank")
}

func TestFillLosesToEveryWriteSinceTheLoadBegan(t *testing.T) {
	k := []byte("k")
	h := Hash(k)
	fill := func(s *Shard, gen uint32) bool {
		stored, err := s.Fill(h, k, []byte("loaded"), 1, ttl.Never, false, gen)
		require.NoError(t, err)
		return stored
	}
	for _, tc := range []struct {
		name  string
		write func(s *Shard)
		want  string // "" for absent
	}{
		{"Set", func(s *Shard) { set(t, s, "k", "written") }, "written"},
		{"Delete of an absent key", func(s *Shard) { s.Delete(h, k, 1, nil) }, ""},
		{"Update", func(s *Shard) { touch(s, "k", 1, ttl.Never) }, ""},
		{"Clear", func(s *Shard) { s.Clear() }, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newShard(t, 64<<10, 32)
			gen := generation(s, "k")
			tc.write(s)
			require.False(t, fill(s, gen), "a load that began before the write was stored")
			v, ok := get(s, "k", 1)
			require.Equal(t, tc.want != "", ok)
			require.Equal(t, tc.want, v)
			require.True(t, fill(s, generation(s, "k")), "a load that began after the write is stored")
			v, _ = get(s, "k", 1)
			require.Equal(t, "loaded", v)
			require.NoError(t, s.Check())
		})
	}
}

func TestFillDoesNotMoveTheGeneration(t *testing.T) {
	s := newShard(t, 64<<10, 32)
	k := []byte("k")
	gen := generation(s, "k")
	for range 3 {
		stored, err := s.Fill(Hash(k), k, []byte("v"), 1, ttl.Never, false, gen)
		require.NoError(t, err)
		require.True(t, stored, "loads begun together all store")
	}
	_, err := s.Fill(Hash(k), make([]byte, MaxKeyLen+1), nil, 1, ttl.Never, false, gen)
	require.ErrorIs(t, err, ErrKeyTooLarge)
}

func TestDeleteCountsOnlyWhatTheCallerCallsLive(t *testing.T) {
	s := newShard(t, 64<<10, 32)
	set(t, s, "tombstone", "")
	set(t, s, "value", "v")
	notLive := func([]byte, bool) bool { return false }
	require.False(t, s.Delete(Hash([]byte("tombstone")), []byte("tombstone"), 1, notLive))
	require.False(t, has(s, "tombstone", 1), "an entry that was not live is still removed")
	require.True(t, s.Delete(Hash([]byte("value")), []byte("value"), 1, nil))
	require.Equal(t, uint64(1), s.Stats().Deletes)
	require.NoError(t, s.Check())
}

// The index holds every entry a plan is made for: rebalance sizes a
// shrunk index so that probation's share still holds its live entries,
// which takes maxLive >= entries exactly, not one less after rounding.
func TestPlannedIndexHoldsItsEntries(t *testing.T) {
	for entries := 1; entries <= 100_000; entries++ {
		l := planTail(1<<20, entries, evict.LRUK)
		require.GreaterOrEqual(t, l.Slots*loadNum/loadDen, entries, "entries %d", entries)
	}
}

// The reads that earned an entry main do not also buy it laps there: it
// enters main with its CLOCK count at zero, and a read in main counts
// again.
func TestPromotionEntersMainWithNoReadsCounted(t *testing.T) {
	s := newLRUKShard(t, 64<<10)
	set(t, s, "p", "value")
	for range 3 {
		_, ok := get(s, "p", 1)
		require.True(t, ok)
	}
	h := Hash([]byte("p"))
	g, hd, ok := s.lookup(h, []byte("p"), 1)
	require.True(t, ok)
	require.Equal(t, probation, s.ringOf(g))
	require.Equal(t, evict.MetaBits, hd.flags&evict.MetaBits, "three reads in probation saturate the count")
	for i := 0; s.ringOf(g) == probation; i++ {
		require.Less(t, i, 10_000, "p never left probation")
		set(t, s, fmt.Sprint("filler-", i), "value")
		g, hd, ok = s.lookup(h, []byte("p"), 1)
		require.True(t, ok, "promoted while main had room, never rejected")
	}
	require.NoError(t, s.Check())
	require.Zero(t, hd.flags&evict.MetaBits, "p entered main with its probation reads counted")
	_, ok = get(s, "p", 1)
	require.True(t, ok)
	_, hd, _ = s.lookup(h, []byte("p"), 1)
	require.Equal(t, uint8(1), hd.flags&evict.MetaBits, "a read in main counts")
}
