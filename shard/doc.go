// Package shard is one partition of a ringcache: a mutex, two byte rings
// from package arena holding the entries (probation for new keys and main,
// under LRU-K; main alone under FIFO), a fixed open-addressing index over
// both, the eviction policy's memory, and a write sequence that lets Get
// read without the mutex. Every engine invariant lives
// here and is checked by [Shard.Check], which the tests and fuzzers call
// after each step.
//
// # Files
//
//	shard.go    the Shard type and the writes the cache calls
//	read.go     the reads under the lock
//	optimistic.go  Get without the lock: the sequence, torn-safe probing,
//	            the read notes the policy drains
//	fence_*.go  the read fence the validation needs, per processor
//	adapt.go    replanning the split between the index and the rings
//	layout.go   how Init divides the memory; global offsets over two rings
//	entry.go    the header codec: the only code that knows its layout
//	index.go    the slots: probing, insertion, deletion by backward shift
//	reclaim.go  making room: dead, expired, settled, evicted or spared heads
//	window.go   moving the probation/main boundary in any ring state
//	stats.go    the counters
//	check.go    the invariants
//
// # Entry layout
//
// An entry is a 12-byte header followed by the key and the value:
//
//	offset size field
//	0      2    key length (keys up to 65,535 bytes)
//	2      3    value length (values up to 16 MiB - 1)
//	5      1    slack: bytes after the value kept for in-place overwrites
//	6      5    expiry stamp, milliseconds on the ttl clock (0 = never)
//	11     1    flags: bit 7 dead, bit 6 framed value, bits 0-1 policy
//
// # Index layout
//
// The index is an array of 8-byte slots placed in the same arena as the ring:
// the high 32 bits hold the low 32 bits of the key's 64-bit hash, the low 32
// bits hold the entry's ring offset plus one, so an all-zero slot is empty
// and freshly mapped memory is an empty index. A key's home slot is chosen
// by multiply-shift reduction of its 32 hash bits over the slot count, and
// collisions probe linearly. Deletion shifts later slots back (no
// tombstones), so a lookup ends at the first empty slot. The load is kept
// at or below 4/5: when it would pass, the shard evicts, as it does when the
// ring is full.
//
// The ring and the index always agree: every live entry in the ring is
// indexed by exactly one slot, every slot points at the start of a live
// entry whose key hashes to the slot's tag, and dead entries are never
// indexed.
//
// It is an engine part of ringcache: its API is what the root package and
// the fuzzers need and follows the root package, not a stable API of its
// own.
package shard
