package evict

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func newLRUK(t testing.TB, k, entries int) *Policy {
	t.Helper()
	sw, hw, hh := LRUKMemory(entries)
	p, err := NewLRUK(k, entries, make([]uint64, sw), make([]uint64, hw), hh)
	require.NoError(t, err)
	return p
}

func TestSketchCountsAgesAndSaturates(t *testing.T) {
	s := NewSketch(make([]uint64, 64), 1000)
	const a, b = 0x1234_5678_9abc_def0, 0x0fed_cba9_8765_4321
	for range 5 {
		s.Increment(a)
	}
	s.Increment(b)
	require.Equal(t, 5, s.Estimate(a))
	require.Equal(t, 1, s.Estimate(b))
	require.Equal(t, 0, s.Estimate(0x5555_0000_1111_2222))
	for range 40 {
		s.Increment(a)
	}
	require.Equal(t, counterMax, s.Estimate(a), "counters saturate at 15")
	s.age()
	require.Equal(t, 7, s.Estimate(a), "aging halves")
	require.Equal(t, 0, s.Estimate(b))
	s.Reset()
	require.Equal(t, 0, s.Estimate(a))
}

func TestSketchAgesAfterItsSample(t *testing.T) {
	s := NewSketch(make([]uint64, 1024), 100)
	const hot = 0xdead_beef_0000_0001
	for i := range 99 {
		if i < 10 {
			s.Increment(hot)
		} else {
			s.Increment(uint64(i) * 0x9E3779B97F4A7C15)
		}
	}
	require.Equal(t, 10, s.Estimate(hot))
	s.Increment(0x7777_0000_3333_1111)
	require.Equal(t, 5, s.Estimate(hot), "the 100th increment halves everything")
}

func TestLRUKEligibility(t *testing.T) {
	p := newLRUK(t, 2, 1000)
	var h uint64 = 0xabcdef0123456789
	require.Equal(t, 0, p.Reads(h))
	require.False(t, p.Eligible(h))
	p.Read(h, false)
	require.Equal(t, 1, p.Reads(h), "a first read enters the history only")
	require.Equal(t, 0, p.sketch.Estimate(mix(uint32(h))), "one-hit wonders stay out of the sketch")
	require.False(t, p.Eligible(h), "one read is short of K = 2")
	p.Read(h, false)
	require.Equal(t, 2, p.Reads(h))
	require.True(t, p.Eligible(h), "the second read earns main at K = 2")

	const other = 0x1111222233334444
	p.Read(other, false)
	require.True(t, p.Admit(h, other), "more recent reads win")
	require.False(t, p.Admit(other, h))
	p.Read(other, false)
	require.False(t, p.Admit(h, other), "a tie keeps the incumbent")

	p.Reset()
	require.Equal(t, 0, p.Reads(h))
}

func TestClockCounters(t *testing.T) {
	lruk := newLRUK(t, 2, 100)
	meta := uint8(0x40) // a bit the shard owns, left alone
	for range 5 {
		meta = lruk.Hit(meta)
	}
	require.Equal(t, uint8(0x40|MetaBits), meta, "the count saturates at 3")
	laps := 0
	for {
		keep, next := lruk.Spare(meta)
		if !keep {
			break
		}
		laps++
		meta = next
	}
	require.Equal(t, 3, laps, "an entry read often is spared once per read, up to 3")
	require.Equal(t, uint8(0x40), meta)

	fifo := NewFIFO()
	meta = fifo.Hit(fifo.Hit(0))
	keep, meta := fifo.Spare(meta)
	require.True(t, keep, "FIFO spares a read entry once")
	keep, _ = fifo.Spare(meta)
	require.False(t, keep, "and only once")
	require.Equal(t, 0, fifo.Reads(1))
	fifo.Read(1, false)
	fifo.Reset()
}

func TestFIFOHasNoK(t *testing.T) {
	p := NewFIFO()
	p.SetK(5)
	require.Equal(t, 0, p.K(), "FIFO has no K")
}
