package ttl

import (
	"math"
	"sync/atomic"
	"time"
)

// Jitter spreads TTLs uniformly over ±fraction of their length, so that
// entries written together do not expire together. It is safe for
// concurrent use and costs one atomic add per call; the same seed gives the
// same sequence.
type Jitter struct {
	fraction float64
	state    atomic.Uint64
}

// NewJitter returns a Jitter over ±fraction (0 <= fraction < 1) seeded
// with seed.
func NewJitter(fraction float64, seed uint64) *Jitter {
	j := &Jitter{fraction: fraction}
	j.state.Store(seed)
	return j
}

// Apply returns d scaled by a uniform factor in [1-fraction, 1+fraction).
// Zero and negative durations come back unchanged; a result that would
// overflow is clamped.
func (j *Jitter) Apply(d time.Duration) time.Duration {
	if d <= 0 || j.fraction == 0 {
		return d
	}
	// splitmix64 over a Weyl sequence: a fresh uniform draw per call.
	x := j.state.Add(0x9E3779B97F4A7C15)
	x = (x ^ x>>30) * 0xBF58476D1CE4E5B9
	x = (x ^ x>>27) * 0x94D049BB133111EB
	x ^= x >> 31
	u := float64(x>>11) / (1 << 53) // [0, 1)
	scaled := float64(d) * (1 + j.fraction*(2*u-1))
	if scaled >= math.MaxInt64 {
		return math.MaxInt64
	}
	return max(time.Duration(scaled), 1)
}

// Adaptive derives a TTL from how hot a key is: Min for a key not read
// recently, Max for one read HotReads times or more, and linear in between.
// The zero value (Max == 0) is off.
type Adaptive struct {
	Min, Max time.Duration
}

// HotReads is the number of recent reads at which Adaptive gives Max.
const HotReads = 8

// Enabled reports whether a is set.
func (a Adaptive) Enabled() bool { return a.Max > 0 }

// For returns the TTL for a key with the given recent reads.
func (a Adaptive) For(reads int) time.Duration {
	r := min(max(reads, 0), HotReads)
	return a.Min + time.Duration(float64(a.Max-a.Min)*float64(r)/HotReads)
}
