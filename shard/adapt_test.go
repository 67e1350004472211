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
			require.NoError(t, s.Init(make([]byte, 64<<10), Options{AvgPayload: 256, Policy: policy, K: 2, ClimbPeriod: 50}))
			planned := s.maxLive
			phase := func(name string, n, valueLen int) {
				for i := range n {
					k := fmt.Sprintf("%s-%d", name, i)
					put(t, s, k, strings.Repeat(k[:1], valueLen))
					if i%97 == 0 {
						require.NoError(t, s.Check(), "%s after %d writes", name, i)
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
			phase("small", 20_000, 4)
			grown := s.stats.Replans
			require.Positive(t, grown, "small entries grow the index")
			require.Greater(t, s.maxLive, 3*planned)
			require.GreaterOrEqual(t, s.live, s.maxLive*3/4, "the index is used")
			require.GreaterOrEqual(t, s.liveBytes, len(s.ringMem)*3/4, "and so are the rings")

			phase("large", 2_000, 2_000)
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
