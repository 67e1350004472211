package ringcache

import (
	"sync/atomic"
	"unsafe"
)

// The count of the hits that reads without the lock serve.

// hitCount counts the hits Get serves without a shard lock. One counter
// would be a cache line every core writes on every hit, the contention
// those reads avoid; so it has stripes, each on lines of its own, and a
// goroutine picks its stripe by the address of its stack. A goroutine
// keeps its stack (until it grows) and mostly its core, so it keeps
// writing the same line, which stays in that core's cache; goroutines on
// other cores mostly write others. Any stripe counts correctly: the
// address only spreads the writes.
type hitCount struct {
	stripes [hitStripes]struct {
		n atomic.Uint64
		_ [120]byte // 128 bytes a stripe: adjacent-line prefetching pairs 64-byte lines
	}
}

const hitStripes = 64

func (c *hitCount) add() {
	var here byte
	// Stacks are at least 2 KiB apart; the multiply spreads their
	// addresses over the stripes.
	i := uint64(uintptr(unsafe.Pointer(&here))>>11) * 0x9E3779B97F4A7C15 >> 58
	c.stripes[i%hitStripes].n.Add(1)
}

func (c *hitCount) sum() uint64 {
	var n uint64
	for i := range c.stripes {
		n += c.stripes[i].n.Load()
	}
	return n
}
