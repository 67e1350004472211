// Package evict holds the policies that decide which entries a full shard
// keeps: LRU-K admission from a probation ring into a CLOCK main ring, and
// plain FIFO with second chance for comparison. They are pure logic over
// two bits of metadata in each entry's header and, for LRU-K, a count-min
// sketch, a rotating Bloom filter and the tuner's models of the shard (which
// choose K and the probation window) in memory the shard provides: no I/O,
// no heap object per entry, no locks (the shard calls them under its own).
//
// It is an engine part of ringcache: its API is what the shard needs and
// follows the root package, not a stable API of its own.
package evict
