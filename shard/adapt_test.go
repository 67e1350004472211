package shard

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/ttl"
)

// The index follows the entries: small ones grow it, large ones shrink
// it, and every entry a replan keeps stays readable with its own value.
func TestTheIndexFollowsTheEntrySize(t *testing.T) {
	for _, policy := range []evict.Kind{evict.FIFO, evict.LRUK} {
		t.Run(policy.String(), func(t *testing.T) {
			s := &Shard{}
			require.NoError(t, s.Init(make([]byte, 64<<10), Options{AvgPayload: 256, Policy: policy, K: 2, TunePeriod: 50}))
			planned := s.maxLive
			// Each phase requests its keys passes times over, writing on
			// a miss: LRU-K admits to a full main only keys read more
			// than the entries there, so the large keys must outlast the
			// small ones' reads.
			phase := func(name string, n, passes, valueLen int) {
				for i := range passes * n {
					k := fmt.Sprintf("%s-%d", name, i%n)
					if _, ok := get(s, k, 1); !ok {
						put(t, s, k, strings.Repeat(k[:1], valueLen))
					}
					if i%97 == 0 {
						require.NoError(t, s.Check(), "%s after %d requests", name, i)
					}
				}
				require.NoError(t, s.Check())
				// Every live entry reads back as written.
				for i := range n {
					k := fmt.Sprintf("%s-%d", name, i)
					if v, ok := get(s, k, 1); ok {
						require.Equal(t, strings.Repeat(k[:1], valueLen), v)
					}
				}
			}
			phase("small", 20_000, 3, 4)
			grown := s.stats.Replans
			require.Positive(t, grown, "small entries grow the index")
			require.Greater(t, s.maxLive, 3*planned)
			require.GreaterOrEqual(t, s.live, s.maxLive*3/4, "the index is used")
			require.GreaterOrEqual(t, s.liveBytes, len(s.ringMem)*3/4, "and so are the rings")

			phase("large", 2_000, 10, 2_000)
			require.Greater(t, s.stats.Replans, grown, "large entries shrink it again")
			require.Less(t, s.maxLive, planned)
			require.GreaterOrEqual(t, s.liveBytes, len(s.ringMem)*3/4)
		})
	}
}

// A balanced shard does not replan: the triggers leave a gap between them.
func TestABalancedShardKeepsItsPlan(t *testing.T) {
	s := &Shard{}
	require.NoError(t, s.Init(make([]byte, 64<<10), Options{AvgPayload: 64, Policy: evict.LRUK, K: 2}))
	for i := range 20_000 {
		k := fmt.Sprintf("k%07d", i) // 8 bytes
		put(t, s, k, strings.Repeat("v", 48+i%17))
		if i%997 == 0 {
			require.NoError(t, s.Check())
		}
	}
	require.NoError(t, s.Check())
	require.Zero(t, s.stats.Replans, "entries of about the planned size")
}

// put is set without a Check after every write, for long runs.
func put(t *testing.T, s *Shard, key, value string) {
	t.Helper()
	require.NoError(t, s.Set(Hash([]byte(key)), []byte(key), []byte(value), 1, ttl.Never, false))
}

// The inline trigger of a replan, at each of its boundaries.
func TestUnbalancedAtItsBoundaries(t *testing.T) {
	s := &Shard{maxLive: 100, ringMem: make([]byte, 1000)}
	full := 1000 - 1000/fullShare
	for _, tc := range []struct {
		live, liveBytes int
		want            bool
	}{
		{100, 0, true}, // the index is full
		{99, 0, false},
		{49, full + 1, true}, // the rings are full, the index under half used
		{49, full, false},
		{50, 1000, false},
	} {
		s.live, s.liveBytes = tc.live, tc.liveBytes
		require.Equal(t, tc.want, s.unbalanced(), "%d live of %d, %d of 1000 ring bytes", tc.live, s.maxLive, tc.liveBytes)
	}
}

// plannedEntries at each of its boundaries: growth needs the index full
// and 1/roomShare of the rings free, shrinking needs the rings full and
// under half the index used, and a shrunk plan keeps probation's live
// entries within its share.
func TestPlannedEntriesAtItsBoundaries(t *testing.T) {
	s := newLRUKShard(t, 64<<10)
	ring := len(s.ringMem)
	plan := func(live, liveBytes, planned int) bool {
		s.live, s.liveBytes, s.probLive, s.tail.Entries = live, liveBytes, 0, planned
		_, ok := s.plannedEntries()
		return ok
	}
	require.True(t, plan(s.maxLive, ring-ring/roomShare, 1), "a full index with an eighth of the rings free grows")
	require.False(t, plan(s.maxLive, ring-ring/roomShare+1, 1))
	require.False(t, plan(s.maxLive-1, 0, 1))
	const many = 1 << 30
	require.True(t, plan(s.maxLive/2-1, ring-ring/fullShare+1, many), "full rings with an index under half used shrink it")
	require.False(t, plan(s.maxLive/2-1, ring-ring/fullShare, many))
	require.False(t, plan(s.maxLive/2, ring, many))

	// A plan must differ from the current one by an eighth of its entries:
	// exactly that much is enough. last returns the largest count of
	// planned entries e with f(e) at most target (f grows with e).
	last := func(f func(e int) int, target int) int {
		e := 1
		for f(e+1) <= target {
			e++
			require.Less(t, e, 1<<24)
		}
		return e
	}
	s.live, s.liveBytes, s.probLive, s.tail.Entries = s.maxLive, ring/2, 0, 1
	grown, ok := s.plannedEntries()
	require.True(t, ok)
	up := func(e int) int { return e + e/replanShare }
	require.True(t, plan(s.maxLive, ring/2, last(up, grown)), "growth by an eighth")
	require.False(t, plan(s.maxLive, ring/2, last(up, grown)+1))
	s.live, s.liveBytes, s.probLive, s.tail.Entries = s.maxLive/2-1, ring, 0, many
	shrunk, ok := s.plannedEntries()
	require.True(t, ok)
	down := func(e int) int { return e - e/replanShare }
	require.True(t, plan(s.maxLive/2-1, ring, last(down, shrunk-1)+1), "shrinking by an eighth")
	require.False(t, plan(s.maxLive/2-1, ring, last(down, shrunk-1)))

	// Whatever probation holds, the shrunk plan's share for it holds it,
	// even when the rings take the whole shard.
	for probLive := 1; probLive < s.maxLive/2; probLive++ {
		s.live, s.liveBytes, s.probLive, s.tail.Entries = s.maxLive/2-1, ring, probLive, many
		want, ok := s.plannedEntries()
		require.True(t, ok)
		l := planTail(len(s.mem), want, s.opts.Policy)
		share := l.Slots * loadNum / loadDen * s.split() / len(s.mem)
		require.GreaterOrEqual(t, share, probLive, "probation's share of a plan for %d entries", want)
	}
}
