package shard

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ringcache/ringcache/evict"
	"github.com/ringcache/ringcache/keyhash"
)

// longestProbe is the farthest any indexed entry sits from its home
// slot: what a lookup of it walks.
func longestProbe(s *Shard) int {
	longest := 0
	for i, v := range s.slots {
		if v == 0 {
			continue
		}
		home := s.home(uint32(v >> 32))
		longest = max(longest, (i-home+len(s.slots))%len(s.slots))
	}
	return longest
}

// Keys crafted offline to share one home slot under the hash without its
// secret key, as
// anyone could against a cache that hashes keys without a secret, spread
// like any keys under the shard's keyed hash: their longest probe is no
// longer than that of as many ordinary keys (plus a margin for chance),
// where an unkeyed hash would line them all up in one run.
func TestCraftedKeysDoNotPileUpUnderTheKeyedHash(t *testing.T) {
	const size, n = 1 << 20, 2000
	o := Options{AvgPayload: 128, Policy: evict.LRUK, K: 2, Hasher: keyhash.New(1)}
	slots := PlanLayout(size, o).Slots
	var unkeyed keyhash.Hasher // the hash without a secret, which anyone can compute
	var crafted, ordinary [][]byte
	for i := uint64(0); len(crafted) < n; i++ {
		k := binary.LittleEndian.AppendUint64(nil, i)
		if uint64(uint32(unkeyed.Sum(k)))*uint64(slots)>>32 == 0 {
			crafted = append(crafted, k)
		}
	}
	for i := range n {
		ordinary = append(ordinary, binary.LittleEndian.AppendUint64(nil, uint64(i)*0x9E3779B97F4A7C15))
	}
	probe := func(keys [][]byte) int {
		s := &Shard{}
		require.NoError(t, s.Init(make([]byte, size), o))
		for _, k := range keys {
			require.NoError(t, s.Set(s.Hash(k), k, make([]byte, 32), 1, 0, false))
		}
		require.NoError(t, s.Check())
		return longestProbe(s)
	}
	c, r := probe(crafted), probe(ordinary)
	t.Logf("longest probe: crafted keys %d, ordinary keys %d, of %d slots", c, r, slots)
	require.LessOrEqual(t, c, 2*r+16, "crafted keys pile into one probe run")
}
