package evict

import "math"

// The policy's settings that adapt to the workload by hill climbing, as
// Caffeine adapts its window: every period of reads a climber compares the
// period's hit ratio with the last one's and moves its setting a step, the
// same way if the ratio rose, the other way if it fell.

// WindowClimber adapts the probation ring's size by hill climbing on the
// hit ratio, as Caffeine adapts its window: every period of reads it
// compares the period's hit ratio with the last one's and moves the size
// by a step, the same way if the ratio rose, the other way if it fell.
// Steps start at a sixteenth of the size and shrink by 10% a period, so
// the size settles instead of oscillating. Caffeine shrinks them by 2%,
// but its periods are ten cache-fulls where a shard's are at least
// 10,000 reads, so a trace gives a small shard's climber fewer periods
// to settle in. A change in hit ratio of 5 points or more (the workload
// changed) restarts the steps at full length. Recency-heavy workloads
// push probation up (new entries get longer to prove themselves),
// frequency-heavy ones push it down.
type WindowClimber struct {
	period, reads, hits int
	last                float64
	full                float64 // the first and restarted step, in bytes
	step                float64 // the next step in bytes; its sign is the direction
}

const (
	climbFirstStep = 1.0 / 16
	climbDecay     = 0.9
	climbRestart   = 0.05
)

// NewWindowClimber returns a climber over size bytes that decides once
// per period reads, starting by growing the window.
func NewWindowClimber(period, size int) WindowClimber {
	full := climbFirstStep * float64(size)
	return WindowClimber{period: max(period, 1), full: full, step: full}
}

// Sample records a read and returns how many bytes to add to probation's
// size (negative: to take away), or 0 when the period has not ended.
func (w *WindowClimber) Sample(hit bool) int {
	w.reads++
	if hit {
		w.hits++
	}
	if w.reads < w.period {
		return 0
	}
	ratio := float64(w.hits) / float64(w.reads)
	change := ratio - w.last
	w.last = ratio
	w.reads, w.hits = 0, 0
	if change == 0 {
		return 0 // nothing to learn: stay, rather than drift to an end
	}
	amount := w.step
	if change < 0 {
		amount = -amount
	}
	w.step = climbDecay * amount
	if math.Abs(change) >= climbRestart {
		w.step = math.Copysign(w.full, amount)
	}
	return int(amount)
}

// KClimber adapts LRU-K's K on the window climber's periods: every period
// it moves K by one, the same way unless the period's hit ratio fell below
// the last one's, within [1, twice the K it starts from]. At K = 1 any
// key read recently may challenge main's victim and the duel alone
// decides, as in W-TinyLFU, which suits pools of keys read at different
// rates; loops and traces that scan their working set want 4 to 6, and
// the frequency-driven ones 2 or 3; no one K wins on all of them
// (docs/admission.md). The window and K move on the same
// signal, each as if it alone had moved it, rather than taking turns,
// which lost more where the two climbers pulled apart.
type KClimber struct {
	period, reads, hits int
	last                float64
	dir, hi             int
}

// MaxK is the most reads a key's history can show (its sketch counters
// saturate at 15, and the Bloom history adds one): a larger K would shut
// main to every candidate.
const MaxK = 16

// NewKClimber returns a climber that decides once per period reads for a
// policy starting at k, starting by raising it.
func NewKClimber(period, k int) KClimber {
	return KClimber{period: max(period, 1), dir: 1, hi: min(2*max(k, 1), MaxK)}
}

// Max is the largest K the climber sets.
func (c *KClimber) Max() int { return c.hi }

// Sample records a read and returns the K to use from now on, given k,
// the K in use: k itself until a period ends.
func (c *KClimber) Sample(hit bool, k int) int {
	c.reads++
	if hit {
		c.hits++
	}
	if c.reads < c.period {
		return k
	}
	ratio := float64(c.hits) / float64(c.reads)
	c.reads, c.hits = 0, 0
	if ratio < c.last {
		c.dir = -c.dir
	}
	c.last = ratio
	return min(max(k+c.dir, 1), c.hi)
}
