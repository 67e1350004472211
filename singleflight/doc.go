// Package singleflight deduplicates concurrent calls: while a call for a
// key is in flight, later callers for that key wait for its result instead
// of making their own. It is golang.org/x/sync/singleflight's idea with the
// failure modes a cache's loader meets taken care of:
//
//   - every waiter honours its own context: it can give up without
//     cancelling the others; the call runs with a context detached from the
//     first caller's cancellation (its values kept) and is cancelled only
//     when every waiter has gone;
//   - a panic in the function reaches every waiter as a *PanicError with
//     the value and stack, and re-panics in no goroutine; runtime.Goexit
//     reaches them as ErrGoexit; either way the key is released.
//
// It is an engine part of ringcache, used by GetOrLoad: its API follows
// the root package, not a stable API of its own.
package singleflight
