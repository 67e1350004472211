// Package ringcache is an in-process cache of byte keys and byte values
// that keeps its data in preallocated rings outside the Go heap, so millions
// of entries add nothing to garbage-collection work.
//
// A [Cache] is split into shards, each guarded by its own mutex and owning a
// fixed slice of one memory region mapped at [New]. Within a shard, entries
// are appended to a byte ring and found through a fixed open-addressing
// index; nothing grows after New, and Config.Capacity bounds all of it:
// ring bytes, index and the eviction policy's metadata. What a full shard
// keeps is decided by access history (LRU-K admission: new keys wait in a
// small probation ring and earn the main ring by repeated reads; see
// Config.Policy), so scans and one-hit wonders do not flush hot entries.
//
// [Cache.GetOrLoad] puts the cache in front of a system of record: one
// load per key among concurrent misses, negative caching, a Bloom guard,
// stale-if-error, refresh-ahead, TTL jitter and adaptive TTLs.
//
// Reads copy the value into a caller's buffer ([Cache.Get]) or show it to a
// callback under the shard lock ([Cache.GetFunc]); neither allocates. Every
// method is safe for concurrent use, including after [Cache.Close], when
// writes fail with [ErrClosed] and reads miss.
//
// Expiry uses a coarse millisecond clock (package ttl) read with one atomic
// load; an entry whose TTL has passed on that clock is never returned.
//
// String keys: no method modifies a key or keeps it past the call
// (GetOrLoad hands its loader a copy), so a caller whose keys are strings
// can pass their bytes without a copy, and no call allocates for the key
// at any length:
//
//	func key(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
//	v, ok := c.Get(buf[:0], key(name))
//
// A conversion []byte(name) costs nothing for keys up to 32 bytes, which
// the compiler copies on the stack, and one allocation for longer ones.
package ringcache
