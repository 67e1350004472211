package ringcache

import (
	"sync/atomic"
	"time"
)

// The loading layer's histogram of load times, Stats.LoadTimes.

// LoadBuckets are the upper bounds of the buckets of Stats.LoadTimes, the
// durations of loader calls: from 100µs to 10s, about three to a decade,
// as Prometheus's default buckets are spread.
var LoadBuckets = [...]time.Duration{
	100 * time.Microsecond, 250 * time.Microsecond, 500 * time.Microsecond,
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond,
	10 * time.Millisecond, 25 * time.Millisecond, 50 * time.Millisecond,
	100 * time.Millisecond, 250 * time.Millisecond, 500 * time.Millisecond,
	time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// LoadTimes is a histogram of how long loader calls took, background
// refreshes included.
type LoadTimes struct {
	// Counts[i] is the number of loads that took at most LoadBuckets[i]
	// and longer than LoadBuckets[i-1]; the last counts those longer than
	// every bound.
	Counts [len(LoadBuckets) + 1]uint64
	// Sum is the time all of them took.
	Sum time.Duration
}

// loadClock records LoadTimes with atomic adds: a load pays two reads of
// the time and two adds, and allocates nothing.
type loadClock struct {
	counts [len(LoadBuckets) + 1]atomic.Uint64
	sum    atomic.Int64
}

func (l *loadClock) observe(d time.Duration) {
	i := 0
	for i < len(LoadBuckets) && d > LoadBuckets[i] {
		i++
	}
	l.counts[i].Add(1)
	l.sum.Add(int64(d))
}

func (l *loadClock) read() LoadTimes {
	var t LoadTimes
	for i := range l.counts {
		t.Counts[i] = l.counts[i].Load()
	}
	t.Sum = time.Duration(l.sum.Load())
	return t
}
