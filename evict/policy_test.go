package evict

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSecondChanceSparesOnceAndOnlyReadEntries(t *testing.T) {
	var p Policy = SecondChance{}
	keep, meta := p.Reclaim(0)
	require.False(t, keep, "an entry never read is evicted")

	meta = p.Hit(meta)
	keep, meta = p.Reclaim(meta)
	require.True(t, keep, "a read entry gets another lap")
	keep, _ = p.Reclaim(meta)
	require.False(t, keep, "the lap is spent: no second reprieve without another read")

	// Bits outside the policy's own are left alone.
	require.Equal(t, uint8(0x40|referenced), p.Hit(0x40))
}
