// Package arena is ringcache's allocator: large byte regions obtained once,
// outside the Go heap where the operating system allows, and carved into
// fixed rings that store variable-length records.
//
// A [Region] is one block of memory mapped from the operating system (mmap
// on Unix-like systems, a plain byte slice elsewhere). Its pages are not
// scanned by the garbage collector and do not count toward the Go heap goal,
// so a cache of several gigabytes does not double the heap target.
//
// A [Ring] is a FIFO byte allocator over a fixed slice: records are appended
// at the tail and reclaimed at the head, in order. A record never straddles
// the end of the ring: when the bytes left before the end are too few for the
// next record, they become padding and the tail wraps to offset zero. At most
// one padding run exists at a time, so the ring tracks it in a field instead
// of writing markers into the data. The ring knows record sizes only when its
// owner tells it; it never parses the bytes it holds.
//
// It is an engine part of ringcache: its API is what the shard needs and
// follows the root package, not a stable API of its own.
package arena
