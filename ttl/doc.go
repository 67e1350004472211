// Package ttl keeps ringcache's notion of time: a coarse millisecond clock
// read with one atomic load instead of a time.Now call per operation, and
// the arithmetic that turns a TTL into an expiry stamp.
//
// Expiry stamps are milliseconds since the clock's epoch (the moment the
// clock was made), with zero reserved for "never expires". A Clock is either
// ticking, advanced by a background goroutine, or manual, advanced only by
// the test that owns it.
package ttl
