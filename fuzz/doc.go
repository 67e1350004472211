// Package fuzz holds native Go fuzz targets for ringcache's engine. Each
// target decodes its input into a sequence of operations (set, set with
// TTL, get, delete, touch, clock advance, clear, and on a shard loads that
// begin and are stored later), runs them against a shard
// or a whole Cache and against a plain map model side by side, and after
// every step checks the engine invariants (shard.Check, stated in the
// shard package's doc) and the cache's promises: a read returns
// exactly the last value written or misses, never an expired value, the
// index and rings agree, and used bytes stay within capacity.
//
// `go test ./fuzz` replays the seed corpus in testdata; `go test -fuzz
// FuzzShard ./fuzz` explores further.
package fuzz
