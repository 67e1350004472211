package ringcache

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEveryDocumentedCapacityHasALayoutWithDefaultShards(t *testing.T) {
	// Mapping a terabyte depends on the machine; the layout must not.
	for capacity := int64(MinCapacity); capacity <= MaxCapacity; capacity *= 2 {
		for _, c := range []int64{capacity, capacity + capacity/3} {
			if c > MaxCapacity {
				continue
			}
			l, err := (&Config{Capacity: c}).layout()
			require.NoError(t, err, "Capacity %d", c)
			require.LessOrEqual(t, int64(l.shardBytes), int64(maxShardBytes))
			require.LessOrEqual(t, int64(l.shards)*int64(l.shardBytes), c)
		}
	}
	l, err := (&Config{Capacity: MaxCapacity}).layout()
	require.NoError(t, err)
	require.Equal(t, 512, l.shards, "a terabyte needs more than the default 256 shards")
}
