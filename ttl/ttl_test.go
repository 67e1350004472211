package ttl

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStamp(t *testing.T) {
	for _, tc := range []struct {
		name string
		now  int64
		ttl  time.Duration
		want int64
	}{
		{"zero never expires", 5, 0, Never},
		{"whole milliseconds", 5, 10 * time.Millisecond, 15},
		{"rounds up so a positive TTL is never already expired", 5, time.Nanosecond, 6},
		{"rounds up a fraction", 5, 1500 * time.Microsecond, 7},
		{"clamps far futures", 5, 100 * 365 * 24 * time.Hour, MaxStamp},
		{"clamps the largest duration without overflow", 5, math.MaxInt64, MaxStamp},
		{"clamps near the limit", MaxStamp - 1, 2 * time.Millisecond, MaxStamp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, Stamp(tc.now, tc.ttl))
		})
	}
}

func TestExpiredAndRemaining(t *testing.T) {
	require.False(t, Expired(Never, math.MaxInt64))
	require.False(t, Expired(10, 9))
	require.True(t, Expired(10, 10))
	require.Equal(t, time.Duration(0), Remaining(Never, 3))
	require.Equal(t, 7*time.Millisecond, Remaining(10, 3))
	require.Equal(t, time.Duration(0), Remaining(10, 11))
}

func TestManualClock(t *testing.T) {
	var zero Clock
	require.Equal(t, int64(1), zero.Now(), "the zero value is a manual clock at 1")
	c := NewManualClock()
	require.Equal(t, int64(1), c.Now())
	c.Advance(1500 * time.Microsecond)
	require.Equal(t, int64(2), c.Now())
	c.Advance(-time.Hour)
	require.Equal(t, int64(2), c.Now(), "the clock never runs backwards")
}

func TestSystemClockAdvancesWithRealTime(t *testing.T) {
	c := System()
	require.Same(t, c, System(), "one clock per process")
	start := c.Now()
	time.Sleep(20 * time.Millisecond)
	// Now may lag real time by a tick, more on a busy machine.
	require.Eventually(t, func() bool { return c.Now() >= start+20 }, 30*time.Second, time.Millisecond)
}

func TestRestingClockReadsTheTimeItself(t *testing.T) {
	// A clock whose goroutine rests must not hand out the time it rested
	// at: the first read after a long rest sees the present.
	c := &Clock{start: time.Now().Add(-time.Hour), wake: make(chan struct{}, 1)}
	c.word.Store(resting) // rested an hour ago
	now := c.Now()
	require.GreaterOrEqual(t, now, int64(time.Hour/time.Millisecond))
	require.Len(t, c.wake, 1, "the read asks the clock to tick again")
	prev := now
	for range 1000 {
		n := c.Now()
		require.GreaterOrEqual(t, n, prev, "the clock never runs backwards")
		prev = n
	}
}

func TestSystemClockRestsWhenIdle(t *testing.T) {
	c := System()
	c.Now()
	require.Eventually(t, func() bool { return c.word.Load() == resting },
		restAfter+5*time.Second, 10*time.Millisecond, "the clock still ticks a while after its last read")
	before := c.Now() // wakes it
	require.Eventually(t, func() bool { return c.word.Load() != resting }, 30*time.Second, time.Millisecond,
		"a read wakes the clock")
	require.GreaterOrEqual(t, c.Now(), before)
}
