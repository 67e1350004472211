package ttl

import (
	"sync"
	"sync/atomic"
	"time"
)

// Resolution is the tick of a clock made by NewClock: how far Now may lag
// behind real time while the ticking goroutine is scheduled normally.
const Resolution = time.Millisecond

// Clock is a monotonic millisecond clock. Now is a single atomic load, safe
// for concurrent use. The zero value is a manual clock standing at 1 ms.
type Clock struct {
	ms   atomic.Int64 // elapsed since the epoch; Now adds 1 so that 0 stays Never
	stop chan struct{}
	once sync.Once
	done sync.WaitGroup
}

// NewClock returns a clock advanced every Resolution by a goroutine, which
// runs until Stop. It reads the monotonic clock, so wall-clock jumps do not
// move it. Now starts at 1 ms.
func NewClock() *Clock {
	c := &Clock{stop: make(chan struct{})}
	start := time.Now()
	c.done.Add(1)
	go func() {
		defer c.done.Done()
		t := time.NewTicker(Resolution)
		defer t.Stop()
		for {
			select {
			case <-c.stop:
				return
			case <-t.C:
				c.ms.Store(time.Since(start).Milliseconds())
			}
		}
	}()
	return c
}

// NewManualClock returns a clock that moves only when Advance is called,
// for tests. Now starts at 1 ms.
func NewManualClock() *Clock { return &Clock{} }

// Now returns the milliseconds since the clock's epoch, at least 1.
func (c *Clock) Now() int64 { return 1 + c.ms.Load() }

// Advance moves a manual clock forward by d, rounded down to whole
// milliseconds. Negative durations are ignored: the clock never runs
// backwards. On a ticking clock the next tick overwrites the change.
func (c *Clock) Advance(d time.Duration) {
	if d > 0 {
		c.ms.Add(d.Milliseconds())
	}
}

// Stop ends a ticking clock's goroutine and waits for it; Now then stays
// where it was. Safe to call more than once and on manual clocks.
func (c *Clock) Stop() {
	c.once.Do(func() {
		if c.stop != nil {
			close(c.stop)
			c.done.Wait()
		}
	})
}
