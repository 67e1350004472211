// Package ttl keeps ringcache's notion of time: a coarse millisecond clock
// read with one atomic load instead of a time.Now call per operation, and
// the arithmetic that turns a TTL into an expiry stamp.
//
// Expiry stamps are milliseconds since the clock's epoch, with zero
// reserved for "never expires". The system clock, shared by every cache in
// a process, ticks while it is read and rests when idle; a manual clock is
// advanced only by the test that owns it.
//
// It is an engine part of ringcache: its API follows the root package,
// not a stable API of its own. Tests of code that uses ringcache take
// NewManualClock from here (Config.Clock).
package ttl
