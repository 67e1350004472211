package ttl

import (
	"sync"
	"sync/atomic"
	"time"
)

// Resolution is the tick of the system clock: how far Now may lag behind
// real time while the clock ticks.
const Resolution = time.Millisecond

// restAfter is how long the system clock ticks after a read woke it. A
// clock in use is woken once per restAfter, which costs one time.Since;
// an idle one costs nothing once it rests.
const restAfter = time.Second

// resting is the clock's word while nothing ticks it: Now must read the
// time itself.
const resting = -1

// Clock is a monotonic millisecond clock whose Now is one atomic load, safe
// for concurrent use. The zero value is a manual clock standing at 1 ms.
type Clock struct {
	// word is the milliseconds since the epoch, or resting. Now adds 1 so
	// that 0 stays Never.
	word  atomic.Int64
	start time.Time
	wake  chan struct{} // nil on a manual clock
}

var (
	system     *Clock
	systemOnce sync.Once
)

// System returns the clock every cache in the process shares unless its
// Config supplies another. A read that finds it resting wakes it; it then
// ticks every Resolution for a second and rests again (no goroutine runs)
// until the next read. A read of a resting clock reads the time itself, so
// an idle process never misjudges an expiry. Its epoch is its first use.
func System() *Clock {
	systemOnce.Do(func() {
		system = &Clock{start: time.Now(), wake: make(chan struct{}, 1)}
		system.word.Store(resting)
		go system.run()
	})
	return system
}

// NewManualClock returns a clock that moves only when Advance is called,
// for tests. Now starts at 1 ms.
func NewManualClock() *Clock { return &Clock{} }

// Now returns the milliseconds since the clock's epoch, at least 1.
func (c *Clock) Now() int64 {
	if w := c.word.Load(); w >= 0 {
		return 1 + w
	}
	return c.wakeUp()
}

// recheckWithin is how close to the clock's reading, in milliseconds, an
// expiry must be for Expired to read the time afresh. The clock's word
// lags real time while its goroutine waits to run (248 ms was seen with
// the CPU saturated by other goroutines); an expiry further out than the
// word plus recheckWithin is past only if the goroutine was held up for
// longer than that.
const recheckWithin = 1000

// Expired reports whether stamp has passed, now being c's reading: by
// now, or, for a stamp within recheckWithin of now, by the time read
// afresh, so that an entry is not served more than a millisecond past its
// expiry in real time however late the clock's goroutine runs. A nil
// clock judges by now alone.
func (c *Clock) Expired(stamp, now int64) bool {
	return stamp != Never && (stamp <= now || (stamp-now <= recheckWithin && c != nil && stamp <= c.exact()))
}

// Exact is Now read from the time itself (about 30 ns) rather than from
// the word a goroutine ticks, which lags real time while that goroutine
// waits to run. A manual clock returns Now.
func (c *Clock) Exact() int64 { return c.exact() }

// exact is Now read from the time itself, for a system clock.
//
//go:noinline
func (c *Clock) exact() int64 {
	if c.wake == nil {
		return 1 + c.word.Load()
	}
	return 1 + c.elapsed()
}

// wakeUp reads the time for a resting clock and asks its goroutine to tick
// again. Kept out of line so that Now stays small enough to inline.
//
//go:noinline
func (c *Clock) wakeUp() int64 {
	select {
	case c.wake <- struct{}{}:
	default: // a wake-up is already pending
	}
	return 1 + c.elapsed()
}

func (c *Clock) elapsed() int64 { return time.Since(c.start).Milliseconds() }

// run ticks the clock for restAfter after each wake-up, then marks it
// resting and sleeps until a read wakes it. Only run writes a ticking
// clock's word, so the values it stores never go backwards.
func (c *Clock) run() {
	for range c.wake {
		t := time.NewTicker(Resolution)
		c.word.Store(c.elapsed())
		// Reads that saw the clock resting until now asked for this same
		// wake-up: drop their requests, or the clock ticks a second more.
		select {
		case <-c.wake:
		default:
		}
		// Rest by the time, not by a count of ticks: on a loaded machine
		// ticks come late or are dropped, and a count would keep the
		// clock ticking for longer than restAfter.
		rest := time.Now().Add(restAfter)
		for now := range t.C {
			c.word.Store(c.elapsed())
			if now.After(rest) {
				break
			}
		}
		t.Stop()
		c.word.Store(resting)
	}
}

// Wall returns the Unix time in milliseconds that stamp, a reading of c,
// stands for: what a stamp must become to outlive the process. A manual
// clock's epoch is the zero time.
func (c *Clock) Wall(stamp int64) int64 { return c.start.UnixMilli() + stamp - 1 }

// FromWall is Wall's inverse: the reading of c at Unix time ms.
func (c *Clock) FromWall(ms int64) int64 { return ms - c.start.UnixMilli() + 1 }

// Advance moves a manual clock forward by d, rounded down to whole
// milliseconds. Negative durations are ignored: the clock never runs
// backwards. It must not be called on the system clock.
func (c *Clock) Advance(d time.Duration) {
	if d > 0 {
		c.word.Add(d.Milliseconds())
	}
}
