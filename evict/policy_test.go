package evict

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func newLRUK(t *testing.T, k, entries int) *Policy {
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
	const h = 0xabcdef0123456789
	require.Equal(t, 0, p.Reads(h))
	require.False(t, p.Eligible(h))
	p.Read(h, false)
	require.Equal(t, 1, p.Reads(h), "a first read enters the history only")
	require.Equal(t, 0, p.sketch.Estimate(mix(h)), "one-hit wonders stay out of the sketch")
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

func TestWindowClimberFollowsTheHitRatio(t *testing.T) {
	const period, size = 100, 1600 // first step: 100 bytes
	w := NewWindowClimber(period, size)
	// feed runs one period at the given hit ratio (in percent) and returns
	// the climber's decision.
	feed := func(ratio int) int {
		d := 0
		for i := range period {
			if got := w.Sample(i < ratio); got != 0 {
				require.Equal(t, period-1, i, "decisions come only at the end of a period")
				d = got
			}
		}
		return d
	}
	require.Equal(t, 100, feed(50), "a rise from nothing keeps growing by a full step (and restarts the step)")
	require.Equal(t, 100, feed(52), "a small rise keeps the direction")
	require.Equal(t, -90, feed(51), "a fall reverses it, with the step decayed by 10%")
	require.Equal(t, 81, feed(50), "another fall reverses again")
	require.Equal(t, 0, feed(50), "no change: stay")
	require.Equal(t, -72, feed(40), "a fall of 10 points reverses the last step...")
	require.Equal(t, -100, feed(41), "...and restarts the step at full length")
}

func TestKClimberFollowsTheHitRatio(t *testing.T) {
	const period = 100
	c := NewKClimber(period, 3)
	require.Equal(t, 6, c.Max(), "K climbs up to twice where it starts")
	k := 3
	// feed runs one period at the given hit ratio (in percent) and returns
	// the K in use after it.
	feed := func(ratio int) int {
		for i := range period {
			next := c.Sample(i < ratio, k)
			if i < period-1 {
				require.Equal(t, k, next, "K moves only at the end of a period")
			}
			k = next
		}
		return k
	}
	require.Equal(t, 4, feed(50), "a rise from nothing raises K")
	require.Equal(t, 5, feed(50), "no fall keeps the direction")
	require.Equal(t, 4, feed(49), "a fall reverses it")
	require.Equal(t, 3, feed(60), "a rise keeps the new direction")
	require.Equal(t, 2, feed(61))
	require.Equal(t, 1, feed(62))
	require.Equal(t, 1, feed(63), "K stays at least 1")
	require.Equal(t, 2, feed(10), "a fall reverses it upward")
	for range 10 {
		feed(70)
	}
	require.Equal(t, 6, k, "and no higher than its maximum")

	p := NewFIFO()
	p.SetK(5)
	require.Equal(t, 0, p.K(), "FIFO has no K")
	c = NewKClimber(1, 12)
	require.Equal(t, MaxK, c.Max(), "a K past what a history can show would shut main")
}
