package shard

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/ttl"
)

// request reads a key of n at random and writes it on a miss, as a
// read-through cache does.
func request(t *testing.T, s *Shard, rng *rand.Rand, n int, value string) {
	t.Helper()
	k := fmt.Sprintf("k%07d", rng.IntN(n))
	if _, ok := get(s, k, 1); !ok {
		require.NoError(t, s.Set(Hash([]byte(k)), []byte(k), []byte(value), 1, ttl.Never, false))
	}
}

// A full shard has both rings wrapped nearly all the time, with records of
// one size that rarely tile probation to its last byte. Probation must
// still grow to its target: it once adopted main's records only while it
// was unwrapped and the bytes after its last record could hold a filler,
// and on a trace of one record size its size never left the starting 2%.
func TestProbationGrowsInAFullShard(t *testing.T) {
	for _, payload := range []int{28, 40, 100} {
		s := &Shard{}
		// The tuner stays out of it: the test moves the target itself.
		require.NoError(t, s.Init(make([]byte, 64<<10), Options{AvgPayload: payload, Policy: evict.LRUK, K: 2, TunePeriod: 1 << 30}))
		value := strings.Repeat("v", payload-8)
		rng := rand.New(rand.NewPCG(uint64(payload), 1))
		m, p := &s.rings[mainRing], &s.rings[probation]
		for i := 0; m.CanGrowStart() || p.CanGrowStart() || i < 10*s.maxLive; i++ {
			request(t, s, rng, 3*s.maxLive, value)
		}
		start, full := s.split(), s.Len()
		_, hi := s.probBounds()
		s.targetProb = hi / 2
		for i := 0; s.split() < s.targetProb; i++ {
			require.Less(t, i, 100_000, "payload %d: probation stayed at %d bytes of a target of %d", payload, s.split(), s.targetProb)
			request(t, s, rng, 3*s.maxLive, value)
			if i%10 == 0 {
				require.NoError(t, s.Check())
			}
		}
		require.Greater(t, s.split(), start)
		require.GreaterOrEqual(t, s.Len(), full*98/100, "payload %d: growth emptied the shard", payload)
	}
}

// A record larger than half of probation goes straight to main, past
// admission. Probation's least size therefore holds a few of the shard's
// average records: at 1% of a shard of a hundred entries it held one,
// every write went to main, and the shard was a CLOCK without admission.
func TestTheLeastProbationStillTakesNewKeys(t *testing.T) {
	const payload = 40
	s := &Shard{}
	require.NoError(t, s.Init(make([]byte, 8<<10), Options{AvgPayload: payload, Policy: evict.LRUK, K: 2, TunePeriod: 1 << 30}))
	require.Less(t, s.maxLive, 200, "a shard of about a hundred entries")
	value := strings.Repeat("v", payload-8)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 10 * s.maxLive {
		request(t, s, rng, 3*s.maxLive, value)
	}
	// Grow probation, then shrink it to its least.
	lo, hi := s.probBounds()
	for _, target := range []int{hi / 2, lo} {
		s.targetProb = target
		for i := 0; s.split() < target || s.split() >= target+HeaderSize; i++ {
			require.Less(t, i, 100_000, "probation stayed at %d bytes of a target of %d", s.split(), target)
			request(t, s, rng, 3*s.maxLive, value)
		}
	}
	require.GreaterOrEqual(t, s.split(), probFloorRecords*s.liveBytes/s.live)
	for i := range 100 {
		k := fmt.Sprint("new-", i)
		require.NoError(t, s.Set(Hash([]byte(k)), []byte(k), []byte(value), 1, ttl.Never, false))
		slot, g := s.find(uint32(Hash([]byte(k))), []byte(k))
		require.GreaterOrEqual(t, slot, 0, "%s was not stored", k)
		require.Equal(t, probation, s.ringOf(g), "%s skipped probation", k)
		require.NoError(t, s.Check())
	}
}

// The tuner's choices reach the shard: K goes to the policy, and the
// window's share to probation's target, within its bounds. Keys read
// again a few new keys after their first read want the quarter window:
// the target must get there.
func TestTheShardTakesTheTunersChoices(t *testing.T) {
	s := &Shard{}
	require.NoError(t, s.Init(make([]byte, 64<<10), Options{AvgPayload: 40, Policy: evict.LRUK, K: 3, TunePeriod: 20}))
	start := s.targetProb
	value := strings.Repeat("v", 32)
	read := func(k string) {
		if _, ok := get(s, k, 1); !ok {
			require.NoError(t, s.Set(Hash([]byte(k)), []byte(k), []byte(value), 1, ttl.Never, false))
		}
	}
	quarter := len(s.ringMem) * 25 / 100
	for i := 0; s.targetProb != quarter; i++ {
		require.Less(t, i, 1_000_000, "the target never reached the quarter window (at %d of %d bytes)", s.targetProb, len(s.ringMem))
		read(fmt.Sprint("k", i))
		if i >= 8 {
			read(fmt.Sprint("k", i-8))
		}
		require.Equal(t, s.tuner.K(), s.policy.K())
		lo, hi := s.probBounds()
		require.Equal(t, min(max(len(s.ringMem)*s.tuner.Share()/100, lo), hi), s.targetProb)
	}
	require.Greater(t, s.targetProb, start)
	require.NoError(t, s.Check())
}
